// Package config is the webhook service's configuration: one struct, each
// field bound to an environment variable and a flag (a flag wins). Validate
// reports every problem at once, naming the variable and never its value;
// String and LogValue redact the secrets.
package config

import (
	"cmp"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"
)

// Defaults that other packages name; Default holds every default.
const (
	DefaultDatabaseURL     = "hasura-preview.db"
	DefaultListenAddr      = ":8080"
	DefaultSecretEnvPrefix = "HASURA_PREVIEW_SECRET_"
	// A repository's secret NAME resolves to <prefix><OWNER>__<REPO>_<hash>__NAME
	// (repo, the default), <prefix><OWNER>__NAME (owner) or <prefix>NAME (shared).
	SecretScopeRepo   = "repo"
	SecretScopeOwner  = "owner"
	SecretScopeShared = "shared"
)

// Sandbox stand-ins for the credentials, which the simulators accept.
const (
	SandboxCloudToken    = "sandbox"
	SandboxAppID         = 1
	SandboxWebhookSecret = "sandbox"
)

// Config is the service's configuration, built by Load (a Config built by
// hand must pass Validate). It holds secrets: String and LogValue redact them.
type Config struct {
	CloudToken    string // HASURA_CLOUD_ACCESS_TOKEN (secret)
	CloudEndpoint string // HASURA_CLOUD_ENDPOINT

	GitHubAppID             int64  // GITHUB_APP_ID
	GitHubAppPrivateKey     string // GITHUB_APP_PRIVATE_KEY, PEM text (secret)
	GitHubAppPrivateKeyFile string // GITHUB_APP_PRIVATE_KEY_FILE
	WebhookSecret           string // GITHUB_WEBHOOK_SECRET (secret)
	GitHubAPIURL            string // GITHUB_API_URL, with a trailing slash after Load
	PublicURL               string // PUBLIC_URL: where GitHub and browsers reach the service
	WebhookProxyURL         string // WEBHOOK_PROXY_URL: a forwarder's URL registered as the App's webhook URL

	DatabaseURL         string // DATABASE_URL: a SQLite path or postgres:// (password secret)
	ListenAddr          string // LISTEN_ADDR
	DashboardPassword   string // DASHBOARD_PASSWORD: HTTP Basic auth (secret)
	DashboardListenAddr string // DASHBOARD_LISTEN_ADDR: the dashboard alone, on loopback, without a password

	Workers                    int           // WORKERS
	CloudRateLimit             float64       // CLOUD_RATE_LIMIT, calls per second
	CloudRateBurst             int           // CLOUD_RATE_BURST
	MaxPreviewsPerInstallation int           // MAX_PREVIEWS_PER_INSTALLATION, 0 = unlimited
	PreviewTTL                 time.Duration // PREVIEW_TTL, 0 = none
	TTLWarning                 time.Duration // TTL_WARNING
	SweepInterval              time.Duration // SWEEP_INTERVAL
	PreviewDeadline            time.Duration // PREVIEW_DEADLINE
	SecretEnvPrefix            string        // SECRET_ENV_PREFIX
	SecretScope                string        // SECRET_SCOPE: repo, owner or shared

	LogLevel  slog.Level // LOG_LEVEL
	LogFormat string     // LOG_FORMAT: json or text

	Sandbox bool // SANDBOX

	privateKey    *rsa.PrivateKey
	parseProblems []Problem // values that did not parse, kept for Validate
}

// Default returns the configuration with every default and no credentials.
func Default() Config {
	return Config{
		CloudEndpoint:   "https://data.pro.hasura.io/v1/graphql",
		GitHubAPIURL:    "https://api.github.com/",
		DatabaseURL:     DefaultDatabaseURL,
		ListenAddr:      DefaultListenAddr,
		Workers:         10,
		CloudRateLimit:  2,
		CloudRateBurst:  4,
		TTLWarning:      24 * time.Hour,
		SweepInterval:   5 * time.Minute,
		PreviewDeadline: 20 * time.Minute,
		SecretEnvPrefix: DefaultSecretEnvPrefix,
		SecretScope:     SecretScopeRepo,
		LogLevel:        slog.LevelInfo,
		LogFormat:       "json",
	}
}

// usageOutput is where -h prints; tests replace it.
var usageOutput io.Writer = os.Stderr

// Load reads the configuration from getenv (os.Getenv when nil), then args,
// where a flag overrides its variable; -sandbox gives unset credentials
// stand-ins. It validates: on failure it returns the Config as read and a
// *ValidationError. -h prints Usage and returns flag.ErrHelp.
func Load(args []string, getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg := Default()
	problems := map[string]Problem{} // by variable: a flag's value replaces the variable's
	for _, f := range fields {
		v := getenv(f.env)
		if v == "" {
			continue
		}
		if err := f.set(&cfg, v); err != nil {
			problems[f.env] = Problem{Var: f.env, Message: err.Error()}
		}
	}

	fs := flag.NewFlagSet("hasura-preview-webhook", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned; -h prints below
	for _, f := range fields {
		apply := func(v string) error {
			delete(problems, f.env)
			if err := f.set(&cfg, v); err != nil {
				problems[f.env] = Problem{Var: f.env, Flag: "-" + f.flagName(), Message: err.Error()}
			}
			return nil // reported with the other problems, not by flag
		}
		if f.isBool() {
			fs.BoolFunc(f.flagName(), f.usage, apply)
		} else {
			fs.Func(f.flagName(), f.usage, apply)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(usageOutput, Usage())
		}
		return cfg, err
	}
	if fs.NArg() > 0 {
		// The arguments are not echoed: a secret pasted without its flag
		// would end up in the error.
		return cfg, fmt.Errorf("unexpected command-line arguments (%d) after the flags; settings are -name=value or environment variables", fs.NArg())
	}

	for _, f := range fields {
		if p, ok := problems[f.env]; ok {
			cfg.parseProblems = append(cfg.parseProblems, p)
		}
	}
	cfg.GitHubAPIURL = withTrailingSlash(cfg.GitHubAPIURL)
	if cfg.Sandbox {
		cfg.applySandboxDefaults()
	}
	key, err := cfg.validate()
	cfg.privateKey = key
	return cfg, err
}

// applySandboxDefaults fills unset credentials with stand-ins.
func (c *Config) applySandboxDefaults() {
	c.CloudToken = cmp.Or(c.CloudToken, SandboxCloudToken)
	c.GitHubAppID = cmp.Or(c.GitHubAppID, SandboxAppID)
	c.WebhookSecret = cmp.Or(c.WebhookSecret, SandboxWebhookSecret)
	if c.GitHubAppPrivateKey == "" && c.GitHubAppPrivateKeyFile == "" {
		c.privateKey = sandboxKey()
	}
}

// PrivateKey returns the App's private key (nil when there is none or it
// is invalid, which Validate reports).
func (c Config) PrivateKey() *rsa.PrivateKey {
	if c.privateKey != nil {
		return c.privateKey
	}
	key, _, _ := c.loadKey()
	return key
}

func withTrailingSlash(u string) string {
	if u != "" && !strings.HasSuffix(u, "/") {
		return u + "/"
	}
	return u
}

// Row describes one setting, for Usage and the README's reference.
type Row struct {
	Env         string // environment variable
	Flag        string // flag, with its dash
	Default     string // "" when none
	Description string
	Secret      bool // never logged
}

// Table lists every setting in the order of Usage.
func Table() []Row {
	def := Default()
	rows := make([]Row, 0, len(fields))
	for _, f := range fields {
		r := Row{Env: f.env, Flag: "-" + f.flagName(), Description: f.usage, Secret: f.secret}
		if !f.secret {
			r.Default = f.show(&def)
		}
		rows = append(rows, r)
	}
	return rows
}

// Usage is the -h text: every setting with its flag, variable and default.
func Usage() string {
	var b strings.Builder
	b.WriteString("Usage: hasura-preview-webhook [flags]\n\n")
	b.WriteString("Every setting is a flag or an environment variable; a flag wins.\n")
	b.WriteString("Prefer the environment for secrets: flags show in the process list.\n\n")
	for _, r := range Table() {
		fmt.Fprintf(&b, "  %s, %s", r.Flag, r.Env)
		if r.Default != "" {
			fmt.Fprintf(&b, " (default %s)", r.Default)
		}
		fmt.Fprintf(&b, "\n      %s\n", r.Description)
	}
	return b.String()
}

// LogValue shows every setting, secrets as "[redacted]" when set, a
// database URL without its password.
func (c Config) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(fields))
	for _, f := range fields {
		attrs = append(attrs, slog.String(strings.ToLower(f.env), f.show(&c)))
	}
	return slog.GroupValue(attrs...)
}

// String renders the configuration on one line, secrets redacted.
func (c Config) String() string {
	parts := make([]string, 0, len(fields))
	for _, f := range fields {
		parts = append(parts, f.env+"="+f.show(&c))
	}
	return "config{" + strings.Join(parts, " ") + "}"
}

// GoString keeps %#v from printing the secrets.
func (c Config) GoString() string { return c.String() }
