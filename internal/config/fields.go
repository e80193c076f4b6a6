package config

import (
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/pgdb"
)

// field binds one Config field to its environment variable and flag. The
// table below is the single source of truth for Load, Usage, Table,
// LogValue and String.
type field struct {
	env    string
	usage  string
	secret bool // never shown, only whether it is set
	isBool bool
	// set parses v into c. Its error never quotes v: Load reports it under
	// the variable's name, and a value may be a secret.
	set func(c *Config, v string) error
	// show renders the current value for logs and the defaults column;
	// not called for secrets.
	show func(c *Config) string
	// isSet reports whether a secret is set.
	isSet func(c *Config) bool
}

// flagName is the flag form of an environment variable: WORKERS → workers,
// GITHUB_APP_ID → github-app-id.
func (f field) flagName() string { return strings.ReplaceAll(strings.ToLower(f.env), "_", "-") }

var fields = []field{
	secretString("HASURA_CLOUD_ACCESS_TOKEN", "Hasura Cloud personal access token the service creates and deletes preview apps with. Required.",
		func(c *Config) *string { return &c.CloudToken }),
	plainString("HASURA_CLOUD_ENDPOINT", "Hasura Cloud API endpoint.",
		func(c *Config) *string { return &c.CloudEndpoint }),
	{
		env: "GITHUB_APP_ID", usage: "ID of the GitHub App (its settings page, \"App ID\"). Leave the App settings unset to create the App through GET /setup, which stores them.",
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n <= 0 {
				return errors.New("must be a positive whole number")
			}
			c.GitHubAppID = n
			return nil
		},
		show: func(c *Config) string { return itoa(c.GitHubAppID) },
	},
	secretString("GITHUB_APP_PRIVATE_KEY", "The App's private key, PEM text (PKCS#1 or PKCS#8 RSA; \\n escapes accepted). Set this or GITHUB_APP_PRIVATE_KEY_FILE.",
		func(c *Config) *string { return &c.GitHubAppPrivateKey }),
	plainString("GITHUB_APP_PRIVATE_KEY_FILE", "Path of a file holding the App's private key (the .pem GitHub downloads). Set this or GITHUB_APP_PRIVATE_KEY.",
		func(c *Config) *string { return &c.GitHubAppPrivateKeyFile }),
	secretString("GITHUB_WEBHOOK_SECRET", "The App's webhook secret; deliveries are checked against it (X-Hub-Signature-256). The service never takes deliveries without one.",
		func(c *Config) *string { return &c.WebhookSecret }),
	secretString("DASHBOARD_PASSWORD", "Password of the dashboard at / (HTTP Basic auth, any user name), wherever it is served. Unset: the dashboard, which lists repositories, PR titles and endpoints, is served only on a listener bound to loopback (DASHBOARD_LISTEN_ADDR, or LISTEN_ADDR itself in the sandbox), and refuses requests a proxy forwarded.",
		func(c *Config) *string { return &c.DashboardPassword }),
	plainString("DASHBOARD_LISTEN_ADDR", "A second listener that serves only the dashboard, without a password; it must be a loopback address (127.0.0.1:8081, [::1]:8081, localhost:8081), reached with kubectl port-forward or an SSH tunnel. Unset: no second listener.",
		func(c *Config) *string { return &c.DashboardListenAddr }),
	plainString("GITHUB_API_URL", "GitHub REST API root; https://HOST/api/v3/ for GitHub Enterprise Server.",
		func(c *Config) *string { return &c.GitHubAPIURL }),
	plainString("PUBLIC_URL", "Where GitHub and browsers reach this service (e.g. https://previews.example.com). GET /setup builds the App's webhook URL (PUBLIC_URL/webhook) and the setup redirect from it. Required to create the App through /setup.",
		func(c *Config) *string { return &c.PublicURL }),
	plainString("WEBHOOK_PROXY_URL", "For local development: a webhook forwarder's public URL (e.g. https://smee.io/…) that /setup registers as the App's webhook URL instead of PUBLIC_URL/webhook.",
		func(c *Config) *string { return &c.WebhookProxyURL }),
	{
		env: "DATABASE_URL", usage: "State and job queue: a SQLite file path (single replica), or postgres://… for several replicas.",
		set:  func(c *Config, v string) error { c.DatabaseURL = strings.TrimSpace(v); return nil },
		show: func(c *Config) string { return redactDatabaseURL(c.DatabaseURL) },
	},
	plainString("LISTEN_ADDR", "Address the HTTP server (webhook, health, metrics, dashboard) listens on.",
		func(c *Config) *string { return &c.ListenAddr }),
	intField("WORKERS", "How many reconcile jobs run at once.", func(c *Config) *int { return &c.Workers }),
	{
		env: "CLOUD_RATE_LIMIT", usage: "Hasura Cloud API calls per second, shared by all workers (fractions allowed, e.g. 0.5).",
		set: func(c *Config, v string) error {
			r, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return errors.New("must be a number of calls per second")
			}
			c.CloudRateLimit = r
			return nil
		},
		show: func(c *Config) string { return strconv.FormatFloat(c.CloudRateLimit, 'g', -1, 64) },
	},
	intField("CLOUD_RATE_BURST", "Hasura Cloud API calls allowed in a burst above CLOUD_RATE_LIMIT.", func(c *Config) *int { return &c.CloudRateBurst }),
	intField("MAX_PREVIEWS_PER_INSTALLATION", "Most live previews per App installation; 0 means no limit.",
		func(c *Config) *int { return &c.MaxPreviewsPerInstallation }),
	durationField("PREVIEW_TTL", "Delete a preview this long after its last build (e.g. 168h); 0 means never. A repository's ttl overrides it.",
		func(c *Config) *time.Duration { return &c.PreviewTTL }),
	durationField("TTL_WARNING", "Warn on the pull request this long before a TTL deletion.",
		func(c *Config) *time.Duration { return &c.TTLWarning }),
	durationField("SWEEP_INTERVAL", "How often the sweep looks for previews of closed pull requests and expired TTLs.",
		func(c *Config) *time.Duration { return &c.SweepInterval }),
	durationField("PREVIEW_DEADLINE", "How long a preview build may take before it is reported as timed out.",
		func(c *Config) *time.Duration { return &c.PreviewDeadline }),
	plainString("SECRET_ENV_PREFIX", "Repository configs name secrets; the service reads them from its own environment only under this prefix.",
		func(c *Config) *string { return &c.SecretEnvPrefix }),
	{
		env: "SECRET_SCOPE",
		usage: "repo (default): a repository's secret NAME is read as <SECRET_ENV_PREFIX><OWNER>__<REPO>_<HASH>__NAME " +
			"(the name a missing secret's comment gives), so a repository reads only its own secrets; " +
			"owner: as <SECRET_ENV_PREFIX><OWNER>__NAME (OWNER upper-cased, - as _), which every repository of the account can name; " +
			"shared: as <SECRET_ENV_PREFIX>NAME (one organisation only).",
		set: func(c *Config, v string) error {
			v = strings.ToLower(strings.TrimSpace(v))
			if v != SecretScopeRepo && v != SecretScopeOwner && v != SecretScopeShared {
				return errors.New("must be repo, owner or shared")
			}
			c.SecretScope = v
			return nil
		},
		show: func(c *Config) string { return c.SecretScope },
	},
	{
		env: "LOG_LEVEL", usage: "debug, info, warn or error.",
		set: func(c *Config, v string) error {
			var l slog.Level
			if err := l.UnmarshalText([]byte(strings.TrimSpace(v))); err != nil {
				return errors.New("must be debug, info, warn or error")
			}
			c.LogLevel = l
			return nil
		},
		show: func(c *Config) string { return strings.ToLower(c.LogLevel.String()) },
	},
	{
		env: "LOG_FORMAT", usage: "json or text.",
		set:  func(c *Config, v string) error { c.LogFormat = strings.ToLower(strings.TrimSpace(v)); return nil },
		show: func(c *Config) string { return c.LogFormat },
	},
	{
		env: "SANDBOX", isBool: true,
		usage: "Run against in-process GitHub and Hasura Cloud simulators; the credentials above get throwaway defaults.",
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return errors.New("must be true or false")
			}
			c.Sandbox = b
			return nil
		},
		show: func(c *Config) string { return strconv.FormatBool(c.Sandbox) },
	},
}

func plainString(env, usage string, p func(*Config) *string) field {
	return field{
		env: env, usage: usage,
		set:  func(c *Config, v string) error { *p(c) = strings.TrimSpace(v); return nil },
		show: func(c *Config) string { return *p(c) },
	}
}

// secretString keeps the value byte for byte (a PEM key or a secret may
// end in whitespace that matters) and never shows it.
func secretString(env, usage string, p func(*Config) *string) field {
	return field{
		env: env, usage: usage, secret: true,
		set:   func(c *Config, v string) error { *p(c) = v; return nil },
		isSet: func(c *Config) bool { return *p(c) != "" },
	}
}

func intField(env, usage string, p func(*Config) *int) field {
	return field{
		env: env, usage: usage,
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return errors.New("must be a whole number")
			}
			*p(c) = n
			return nil
		},
		show: func(c *Config) string { return strconv.Itoa(*p(c)) },
	}
}

func durationField(env, usage string, p func(*Config) *time.Duration) field {
	return field{
		env: env, usage: usage,
		set: func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			if v == "0" {
				*p(c) = 0
				return nil
			}
			d, err := time.ParseDuration(v)
			if err != nil {
				if strings.HasSuffix(v, "d") {
					return errors.New("must be a duration in hours, minutes or seconds (168h for 7 days)")
				}
				return errors.New("must be a duration such as 90s, 20m or 168h")
			}
			*p(c) = d
			return nil
		},
		show: func(c *Config) string { return durationString(*p(c)) },
	}
}

// durationString prints 0 as "0" and whole hours and minutes without the
// trailing zero units time.Duration.String adds ("168h", not "168h0m0s").
func durationString(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func itoa(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// redactDatabaseURL hides the password of a postgres:// URL; a SQLite
// path has none.
func redactDatabaseURL(u string) string {
	l := strings.ToLower(u)
	if strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://") {
		return pgdb.Redact(u)
	}
	if strings.Contains(u, "://") || strings.Contains(l, "password") {
		return "(not shown)"
	}
	return u
}
