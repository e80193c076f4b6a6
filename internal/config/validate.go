package config

import (
	"cmp"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Problem is one invalid setting. Message never holds the value.
type Problem struct {
	Var     string // environment variable
	Flag    string // the flag, when the value came from one
	Message string
}

// String renders "VAR (-flag): message".
func (p Problem) String() string {
	if p.Flag != "" {
		return fmt.Sprintf("%s (%s): %s", p.Var, p.Flag, p.Message)
	}
	return p.Var + ": " + p.Message
}

// ValidationError lists every invalid setting, one per line.
type ValidationError struct {
	Problems []Problem
}

// Error lists the problems, one per line under a count.
func (e *ValidationError) Error() string {
	plural := "s"
	if len(e.Problems) == 1 {
		plural = ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration (%d problem%s):", len(e.Problems), plural)
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// Validate reports every problem at once in a *ValidationError, naming
// each variable and never its value; it reads and parses the private key.
func (c Config) Validate() error {
	_, err := c.validate()
	return err
}

// Limits that keep a typo from doing damage.
const (
	maxWorkers         = 1000
	minSweepInterval   = time.Second
	minPreviewDeadline = time.Minute
	minSecretPrefixLen = 8
)

var secretPrefixRe = regexp.MustCompile(`^[A-Z][A-Z0-9_]*_$`)

func (c Config) validate() (*rsa.PrivateKey, error) {
	// The App's three credentials may all be missing: the service then
	// starts in setup mode, or finds them where /setup stored them.
	key, keyVar, keyErr := c.loadKey()
	checks := []struct {
		env string
		err error
	}{
		{"HASURA_CLOUD_ACCESS_TOKEN", failIf(c.CloudToken == "", "required (a Hasura Cloud personal access token)")},
		{"HASURA_CLOUD_ENDPOINT", checkURL(c.CloudEndpoint)},
		{keyVar, keyErr},
		{"GITHUB_API_URL", checkURL(c.GitHubAPIURL)},
		{"PUBLIC_URL", optional(c.PublicURL, checkURL)},
		{"WEBHOOK_PROXY_URL", optional(c.WebhookProxyURL, checkURL)},
		{"DATABASE_URL", checkDatabaseURL(c.DatabaseURL)},
		{"LISTEN_ADDR", checkListenAddr(c.ListenAddr)},
		{"DASHBOARD_LISTEN_ADDR", optional(c.DashboardListenAddr, checkLoopbackAddr)},
		{"WORKERS", failIf(c.Workers < 1 || c.Workers > maxWorkers, "must be between 1 and %d", maxWorkers)},
		{"CLOUD_RATE_LIMIT", failIf(!(c.CloudRateLimit > 0), "must be more than 0 calls per second")},
		{"CLOUD_RATE_BURST", failIf(c.CloudRateBurst < 1, "must be at least 1")},
		{"MAX_PREVIEWS_PER_INSTALLATION", failIf(c.MaxPreviewsPerInstallation < 0, "must be 0 (no limit) or more")},
		{"PREVIEW_TTL", failIf(c.PreviewTTL < 0, "must be 0 (never) or more")},
		{"TTL_WARNING", cmp.Or(failIf(c.TTLWarning < 0, "must be 0 or more"),
			failIf(c.PreviewTTL > 0 && c.TTLWarning >= c.PreviewTTL, "must be shorter than PREVIEW_TTL (%s)", durationString(c.PreviewTTL)))},
		{"SWEEP_INTERVAL", failIf(c.SweepInterval < minSweepInterval, "must be at least %s", minSweepInterval)},
		{"PREVIEW_DEADLINE", failIf(c.PreviewDeadline < minPreviewDeadline, "must be at least %s: a preview build takes minutes", minPreviewDeadline)},
		{"SECRET_ENV_PREFIX", c.checkSecretPrefix()},
		{"LOG_FORMAT", failIf(c.LogFormat != "json" && c.LogFormat != "text", "must be json or text")},
	}
	ps := slices.Clone(c.parseProblems)
	for _, ch := range checks {
		// A value that did not parse is reported once, as it was read.
		failed := slices.ContainsFunc(c.parseProblems, func(p Problem) bool { return p.Var == ch.env })
		if ch.err != nil && !failed {
			ps = append(ps, Problem{Var: ch.env, Message: ch.err.Error()})
		}
	}
	if len(ps) > 0 {
		return nil, &ValidationError{Problems: ps}
	}
	return key, nil
}

// failIf is the error of a check that fails when bad holds.
func failIf(bad bool, format string, args ...any) error {
	if bad {
		return fmt.Errorf(format, args...)
	}
	return nil
}

// optional checks a setting only when it is set.
func optional(v string, check func(string) error) error {
	if v == "" {
		return nil
	}
	return check(v)
}

// checkSecretPrefix keeps repository configs, which can read every variable
// under the prefix, away from the service's own.
func (c Config) checkSecretPrefix() error {
	p := c.SecretEnvPrefix
	if len(p) < minSecretPrefixLen || !secretPrefixRe.MatchString(p) {
		return fmt.Errorf("must be a distinctive prefix of at least %d characters, upper case, ending in _ (e.g. %s): repository configs can read every variable under it", minSecretPrefixLen, DefaultSecretEnvPrefix)
	}
	for _, f := range fields {
		if strings.HasPrefix(f.env, p) {
			return fmt.Errorf("covers the service's own %s: repository configs could read it", f.env)
		}
	}
	return nil
}

func checkURL(raw string) error {
	if raw == "" {
		return errors.New("required")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "":
		return errors.New("must be an absolute http(s) URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return errors.New("must be an http(s) URL")
	case u.User != nil:
		return errors.New("must not hold credentials")
	}
	return nil
}

// checkDatabaseURL accepts what the store opens: a SQLite path, sqlite:,
// file: or postgres(ql)://. Errors never quote the URL (a password).
func checkDatabaseURL(raw string) error {
	l := strings.ToLower(raw)
	switch {
	case raw == "":
		return errors.New("required (a SQLite file path or a postgres:// URL)")
	case strings.HasPrefix(l, "postgres://"), strings.HasPrefix(l, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			return errors.New("is not a valid postgres:// URL (special characters in the password must be %-escaped)")
		}
	case strings.HasPrefix(l, "sqlite:"), strings.HasPrefix(l, "file:"):
	case strings.Contains(raw, "://"):
		return errors.New("unsupported scheme: use a SQLite file path or a postgres:// URL")
	case strings.Contains(l, "password="):
		return errors.New("looks like a keyword/value connection string: use a postgres:// URL")
	}
	return nil
}

func checkListenAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("must be host:port or :port")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("the port must be a number from 0 to 65535")
	}
	return nil
}

// checkLoopbackAddr accepts a loopback host:port: the dashboard's own
// listener serves without a password.
func checkLoopbackAddr(addr string) error {
	if err := checkListenAddr(addr); err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return errors.New("must be a loopback address (127.0.0.1:PORT, [::1]:PORT or localhost:PORT): it serves the dashboard without a password")
	}
	return nil
}

// loadKey reads the App's private key from whichever setting holds it (or
// the sandbox's); on failure it names the variable at fault.
func (c Config) loadKey() (*rsa.PrivateKey, string, error) {
	var data []byte
	var from string
	switch {
	case c.GitHubAppPrivateKey != "" && c.GitHubAppPrivateKeyFile != "":
		return nil, envAppKey, errors.New("set either " + envAppKey + " or " + envKeyFile + ", not both")
	case c.GitHubAppPrivateKey != "":
		from = envAppKey
		data = []byte(c.GitHubAppPrivateKey)
		if !strings.Contains(c.GitHubAppPrivateKey, "\n") && strings.Contains(c.GitHubAppPrivateKey, `\n`) {
			// Env files and some platforms cannot hold newlines.
			data = []byte(strings.ReplaceAll(c.GitHubAppPrivateKey, `\n`, "\n"))
		}
	case c.GitHubAppPrivateKeyFile != "":
		from = envKeyFile
		var err error
		if data, err = os.ReadFile(c.GitHubAppPrivateKeyFile); err != nil {
			// The os error names the path and the reason, not the content.
			return nil, envKeyFile, fmt.Errorf("cannot read the key: %w", err)
		}
	case c.privateKey != nil:
		return c.privateKey, "", nil
	default:
		return nil, "", nil
	}
	key, err := ParsePrivateKey(data)
	if err != nil {
		return nil, from, err
	}
	return key, "", nil
}

// ParsePrivateKey reads a PEM RSA private key, PKCS#1 (what GitHub hands
// out) or PKCS#8. Errors describe the shape, never the content.
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("is not a PEM private key (expected -----BEGIN RSA PRIVATE KEY-----)")
	}
	if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") || block.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, errors.New("is encrypted: give the key GitHub generated, without a passphrase")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("is not a valid PKCS#1 RSA private key")
		}
		return key, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("is not a valid PKCS#8 private key")
		}
		key, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("is a %T, but GitHub App keys are RSA", k)
		}
		return key, nil
	}
	return nil, fmt.Errorf("holds a PEM block of type %q, not an RSA private key", block.Type)
}

// sandboxKey is a throwaway App key, made once per process, which the
// sandbox registers with its GitHub simulator.
var sandboxKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("config: generating the sandbox key: %v", err))
	}
	return k
})
