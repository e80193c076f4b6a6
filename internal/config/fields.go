package config

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/pgdb"
)

// field binds one Config field to its environment variable and flag; the
// table below is the single source for Load, Usage, Table, LogValue and String.
type field struct {
	env, usage string
	ptr        func(c *Config) any // the Config field, whose type says how to parse and show it
	secret     bool                // kept byte for byte, never shown, only whether it is set
	lower      bool                // a string compared in lower case
	oneOf      []string            // the values a string may take
	redact     bool                // shown through redactDatabaseURL
}

// flagName is the flag form of an environment variable: GITHUB_APP_ID → github-app-id.
func (f field) flagName() string { return strings.ReplaceAll(strings.ToLower(f.env), "_", "-") }

func (f field) isBool() bool {
	_, ok := f.ptr(&Config{}).(*bool)
	return ok
}

var fields = []field{
	{env: "HASURA_CLOUD_ACCESS_TOKEN", secret: true, ptr: func(c *Config) any { return &c.CloudToken },
		usage: "Hasura Cloud personal access token the service creates and deletes preview apps with. Required."},
	{env: "HASURA_CLOUD_ENDPOINT", ptr: func(c *Config) any { return &c.CloudEndpoint },
		usage: "Hasura Cloud API endpoint."},
	{env: "GITHUB_APP_ID", ptr: func(c *Config) any { return &c.GitHubAppID },
		usage: "ID of the GitHub App (its settings page, \"App ID\"). Leave the App settings unset to create the App through GET /setup, which stores them."},
	{env: "GITHUB_APP_PRIVATE_KEY", secret: true, ptr: func(c *Config) any { return &c.GitHubAppPrivateKey },
		usage: "The App's private key, PEM text (PKCS#1 or PKCS#8 RSA; \\n escapes accepted). Set this or GITHUB_APP_PRIVATE_KEY_FILE."},
	{env: "GITHUB_APP_PRIVATE_KEY_FILE", ptr: func(c *Config) any { return &c.GitHubAppPrivateKeyFile },
		usage: "Path of a file holding the App's private key (the .pem GitHub downloads). Set this or GITHUB_APP_PRIVATE_KEY."},
	{env: "GITHUB_WEBHOOK_SECRET", secret: true, ptr: func(c *Config) any { return &c.WebhookSecret },
		usage: "The App's webhook secret; deliveries are checked against it (X-Hub-Signature-256). The service never takes deliveries without one."},
	{env: "DASHBOARD_PASSWORD", secret: true, ptr: func(c *Config) any { return &c.DashboardPassword },
		usage: "Password of the dashboard at / (HTTP Basic auth, any user name), wherever it is served. Unset: the dashboard, which lists repositories, PR titles and endpoints, is served only on a listener bound to loopback (DASHBOARD_LISTEN_ADDR, or LISTEN_ADDR itself in the sandbox), and refuses requests a proxy forwarded."},
	{env: "DASHBOARD_LISTEN_ADDR", ptr: func(c *Config) any { return &c.DashboardListenAddr },
		usage: "A second listener that serves only the dashboard, without a password; it must be a loopback address (127.0.0.1:8081, [::1]:8081, localhost:8081), reached with kubectl port-forward or an SSH tunnel. Unset: no second listener."},
	{env: "GITHUB_API_URL", ptr: func(c *Config) any { return &c.GitHubAPIURL },
		usage: "GitHub REST API root; https://HOST/api/v3/ for GitHub Enterprise Server."},
	{env: "PUBLIC_URL", ptr: func(c *Config) any { return &c.PublicURL },
		usage: "Where GitHub and browsers reach this service (e.g. https://previews.example.com). GET /setup builds the App's webhook URL (PUBLIC_URL/webhook) and the setup redirect from it. Required to create the App through /setup."},
	{env: "WEBHOOK_PROXY_URL", ptr: func(c *Config) any { return &c.WebhookProxyURL },
		usage: "For local development: a webhook forwarder's public URL (e.g. https://smee.io/…) that /setup registers as the App's webhook URL instead of PUBLIC_URL/webhook."},
	{env: "DATABASE_URL", redact: true, ptr: func(c *Config) any { return &c.DatabaseURL },
		usage: "State and job queue: a SQLite file path (single replica), or postgres://… for several replicas."},
	{env: "LISTEN_ADDR", ptr: func(c *Config) any { return &c.ListenAddr },
		usage: "Address the HTTP server (webhook, health, metrics, dashboard) listens on."},
	{env: "WORKERS", ptr: func(c *Config) any { return &c.Workers },
		usage: "How many reconcile jobs run at once."},
	{env: "CLOUD_RATE_LIMIT", ptr: func(c *Config) any { return &c.CloudRateLimit },
		usage: "Hasura Cloud API calls per second, shared by all workers (fractions allowed, e.g. 0.5)."},
	{env: "CLOUD_RATE_BURST", ptr: func(c *Config) any { return &c.CloudRateBurst },
		usage: "Hasura Cloud API calls allowed in a burst above CLOUD_RATE_LIMIT."},
	{env: "MAX_PREVIEWS_PER_INSTALLATION", ptr: func(c *Config) any { return &c.MaxPreviewsPerInstallation },
		usage: "Most live previews per App installation; 0 means no limit."},
	{env: "PREVIEW_TTL", ptr: func(c *Config) any { return &c.PreviewTTL },
		usage: "Delete a preview this long after its last build (e.g. 168h); 0 means never. A repository's ttl overrides it."},
	{env: "TTL_WARNING", ptr: func(c *Config) any { return &c.TTLWarning },
		usage: "Warn on the pull request this long before a TTL deletion."},
	{env: "SWEEP_INTERVAL", ptr: func(c *Config) any { return &c.SweepInterval },
		usage: "How often the sweep looks for previews of closed pull requests and expired TTLs."},
	{env: "PREVIEW_DEADLINE", ptr: func(c *Config) any { return &c.PreviewDeadline },
		usage: "How long a preview build may take before it is reported as timed out."},
	{env: "SECRET_ENV_PREFIX", ptr: func(c *Config) any { return &c.SecretEnvPrefix },
		usage: "Repository configs name secrets; the service reads them from its own environment only under this prefix."},
	{env: "SECRET_SCOPE", lower: true, oneOf: []string{SecretScopeRepo, SecretScopeOwner, SecretScopeShared}, ptr: func(c *Config) any { return &c.SecretScope },
		usage: "repo (default): a repository's secret NAME is read as <SECRET_ENV_PREFIX><OWNER>__<REPO>_<HASH>__NAME " +
			"(the name a missing secret's comment gives), so a repository reads only its own secrets; " +
			"owner: as <SECRET_ENV_PREFIX><OWNER>__NAME (OWNER upper-cased, - as _), which every repository of the account can name; " +
			"shared: as <SECRET_ENV_PREFIX>NAME (one organisation only)."},
	{env: "LOG_LEVEL", ptr: func(c *Config) any { return &c.LogLevel },
		usage: "debug, info, warn or error."},
	{env: "LOG_FORMAT", lower: true, ptr: func(c *Config) any { return &c.LogFormat },
		usage: "json or text."},
	{env: "SANDBOX", ptr: func(c *Config) any { return &c.Sandbox },
		usage: "Run against in-process GitHub and Hasura Cloud simulators; the credentials above get throwaway defaults."},
}

// set parses v into c. Its error never quotes v: Load reports it under the
// variable's name, and a value may be a secret.
func (f field) set(c *Config, v string) error {
	if !f.secret {
		v = strings.TrimSpace(v)
	}
	switch p := f.ptr(c).(type) {
	case *string:
		if f.lower {
			v = strings.ToLower(v)
		}
		if f.oneOf != nil && !slices.Contains(f.oneOf, v) {
			return fmt.Errorf("must be %s or %s", strings.Join(f.oneOf[:len(f.oneOf)-1], ", "), f.oneOf[len(f.oneOf)-1])
		}
		*p = v
	case *int64:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return errors.New("must be a positive whole number")
		}
		*p = n
	case *int:
		n, err := strconv.Atoi(v)
		if err != nil {
			return errors.New("must be a whole number")
		}
		*p = n
	case *float64:
		r, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return errors.New("must be a number of calls per second")
		}
		*p = r
	case *bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		*p = b
	case *slog.Level:
		if err := p.UnmarshalText([]byte(v)); err != nil {
			return errors.New("must be debug, info, warn or error")
		}
	case *time.Duration:
		d, err := time.ParseDuration(v)
		switch {
		case err != nil && strings.HasSuffix(v, "d"):
			return errors.New("must be a duration in hours, minutes or seconds (168h for 7 days)")
		case err != nil:
			return errors.New("must be a duration such as 90s, 20m or 168h")
		}
		*p = d
	}
	return nil
}

// show renders a field's value for logs and the defaults column; a secret
// shows only whether it is set.
func (f field) show(c *Config) string {
	switch p := f.ptr(c).(type) {
	case *string:
		switch {
		case f.secret && *p != "":
			return "[redacted]"
		case f.secret:
			return ""
		case f.redact:
			return redactDatabaseURL(*p)
		}
		return *p
	case *int64:
		if *p == 0 {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	case *int:
		return strconv.Itoa(*p)
	case *float64:
		return strconv.FormatFloat(*p, 'g', -1, 64)
	case *bool:
		return strconv.FormatBool(*p)
	case *slog.Level:
		return strings.ToLower(p.String())
	case *time.Duration:
		return durationString(*p)
	}
	panic("config: no rendering for " + f.env)
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
