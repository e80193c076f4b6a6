package config

import (
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
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration (%d problem", len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteString("s")
	}
	b.WriteString("):")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Validate checks every setting and reports every problem at once in a
// *ValidationError, naming each variable and never its value. It reads
// and parses the private key (from GITHUB_APP_PRIVATE_KEY_FILE too).
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
	ps := append([]Problem(nil), c.parseProblems...)
	failed := map[string]bool{}
	for _, p := range ps {
		failed[p.Var] = true
	}
	add := func(env, format string, args ...any) {
		if !failed[env] { // a value that did not parse is reported once
			ps = append(ps, Problem{Var: env, Message: fmt.Sprintf(format, args...)})
		}
	}

	if c.CloudToken == "" {
		add("HASURA_CLOUD_ACCESS_TOKEN", "required (a Hasura Cloud personal access token)")
	}
	if err := checkURL(c.CloudEndpoint); err != nil {
		add("HASURA_CLOUD_ENDPOINT", "%v", err)
	}
	// The App's three credentials may all be missing: the service then
	// starts in setup mode, or finds them where /setup stored them
	// (WithStoredApp checks that none is missing after that).
	key, keyProblems := c.loadKey()
	for _, p := range keyProblems {
		add(p.Var, "%s", p.Message)
	}
	if err := checkURL(c.GitHubAPIURL); err != nil {
		add("GITHUB_API_URL", "%v", err)
	}
	if c.PublicURL != "" {
		if err := checkURL(c.PublicURL); err != nil {
			add("PUBLIC_URL", "%v", err)
		}
	}
	if c.WebhookProxyURL != "" {
		if err := checkURL(c.WebhookProxyURL); err != nil {
			add("WEBHOOK_PROXY_URL", "%v", err)
		}
	}
	if err := checkDatabaseURL(c.DatabaseURL); err != nil {
		add("DATABASE_URL", "%v", err)
	}
	if err := checkListenAddr(c.ListenAddr); err != nil {
		add("LISTEN_ADDR", "%v", err)
	}
	if c.DashboardListenAddr != "" {
		if err := checkLoopbackAddr(c.DashboardListenAddr); err != nil {
			add("DASHBOARD_LISTEN_ADDR", "%v", err)
		}
	}
	if c.Workers < 1 || c.Workers > maxWorkers {
		add("WORKERS", "must be between 1 and %d", maxWorkers)
	}
	if !(c.CloudRateLimit > 0) {
		add("CLOUD_RATE_LIMIT", "must be more than 0 calls per second")
	}
	if c.CloudRateBurst < 1 {
		add("CLOUD_RATE_BURST", "must be at least 1")
	}
	if c.MaxPreviewsPerInstallation < 0 {
		add("MAX_PREVIEWS_PER_INSTALLATION", "must be 0 (no limit) or more")
	}
	if c.PreviewTTL < 0 {
		add("PREVIEW_TTL", "must be 0 (never) or more")
	}
	switch {
	case c.TTLWarning < 0:
		add("TTL_WARNING", "must be 0 or more")
	case c.PreviewTTL > 0 && c.TTLWarning >= c.PreviewTTL:
		add("TTL_WARNING", "must be shorter than PREVIEW_TTL (%s)", durationString(c.PreviewTTL))
	}
	if c.SweepInterval < minSweepInterval {
		add("SWEEP_INTERVAL", "must be at least %s", minSweepInterval)
	}
	if c.PreviewDeadline < minPreviewDeadline {
		add("PREVIEW_DEADLINE", "must be at least %s: a preview build takes minutes", minPreviewDeadline)
	}
	if err := c.checkSecretPrefix(); err != nil {
		add("SECRET_ENV_PREFIX", "%v", err)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		add("LOG_FORMAT", "must be json or text")
	}

	if len(ps) > 0 {
		return nil, &ValidationError{Problems: ps}
	}
	return key, nil
}

// checkSecretPrefix keeps repository configs away from variables that are
// not meant for them: every variable under the prefix is readable by any
// repository the App is installed on.
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

// checkLoopbackAddr accepts host:port whose host is loopback: the
// dashboard's own listener serves without a password, so it must not be
// reachable from another machine.
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

// loadKey reads the App's private key from whichever of the two settings
// holds it. A Config with a key already in hand (sandbox) needs neither.
func (c Config) loadKey() (*rsa.PrivateKey, []Problem) {
	const (
		text = "GITHUB_APP_PRIVATE_KEY"
		file = "GITHUB_APP_PRIVATE_KEY_FILE"
	)
	var data []byte
	var from string
	switch {
	case c.GitHubAppPrivateKey != "" && c.GitHubAppPrivateKeyFile != "":
		return nil, []Problem{{Var: text, Message: "set either " + text + " or " + file + ", not both"}}
	case c.GitHubAppPrivateKey != "":
		from = text
		data = []byte(c.GitHubAppPrivateKey)
		if !strings.Contains(c.GitHubAppPrivateKey, "\n") && strings.Contains(c.GitHubAppPrivateKey, `\n`) {
			// Env files and some platforms cannot hold newlines.
			data = []byte(strings.ReplaceAll(c.GitHubAppPrivateKey, `\n`, "\n"))
		}
	case c.GitHubAppPrivateKeyFile != "":
		from = file
		var err error
		if data, err = os.ReadFile(c.GitHubAppPrivateKeyFile); err != nil {
			// The os error names the path and the reason, not the content.
			return nil, []Problem{{Var: file, Message: fmt.Sprintf("cannot read the key: %v", err)}}
		}
	case c.privateKey != nil:
		return c.privateKey, nil
	default:
		return nil, nil
	}
	key, err := ParsePrivateKey(data)
	if err != nil {
		return nil, []Problem{{Var: from, Message: err.Error()}}
	}
	return key, nil
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

var (
	sandboxKeyOnce sync.Once
	sandboxRSAKey  *rsa.PrivateKey
)

// sandboxKey is a throwaway App key, made once per process, which the
// sandbox registers with its GitHub simulator.
func sandboxKey() *rsa.PrivateKey {
	sandboxKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(fmt.Sprintf("config: generating the sandbox key: %v", err))
		}
		sandboxRSAKey = k
	})
	return sandboxRSAKey
}
