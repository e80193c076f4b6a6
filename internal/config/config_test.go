package config

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func key(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		if testKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return testKey
}

func pkcs1(t *testing.T) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key(t))}))
}

func pkcs8(t *testing.T) string {
	der, err := x509.MarshalPKCS8PrivateKey(key(t))
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// Secret values used below; none may appear in an error, a log or String.
const (
	cloudToken    = "cloud-pat-0f1e2d3c4b5a"
	webhookSecret = "whsec-9a8b7c6d5e"
	dbPassword    = "db-pass-77aa88bb"
)

// minimal is the smallest valid production environment.
func minimal(t *testing.T) map[string]string {
	return map[string]string{
		"HASURA_CLOUD_ACCESS_TOKEN": cloudToken,
		"GITHUB_APP_ID":             "4242",
		"GITHUB_APP_PRIVATE_KEY":    pkcs1(t),
		"GITHUB_WEBHOOK_SECRET":     webhookSecret,
	}
}

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(nil, getenv(minimal(t)))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Default()
	want.CloudToken, want.GitHubAppID, want.GitHubAppPrivateKey, want.WebhookSecret = cloudToken, 4242, pkcs1(t), webhookSecret
	want.privateKey = cfg.privateKey
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load =\n%s\nwant\n%s", cfg, want)
	}
	if cfg.PrivateKey() == nil || !cfg.PrivateKey().Equal(key(t)) {
		t.Error("PrivateKey() is not the configured key")
	}
	if cfg.Workers != 10 || cfg.CloudRateLimit != 2 || cfg.CloudRateBurst != 4 || cfg.TTLWarning != 24*time.Hour ||
		cfg.SweepInterval != 5*time.Minute || cfg.PreviewDeadline != 20*time.Minute || cfg.DatabaseURL != "hasura-preview.db" ||
		cfg.ListenAddr != ":8080" || cfg.GitHubAPIURL != "https://api.github.com/" || cfg.CloudEndpoint != "https://data.pro.hasura.io/v1/graphql" ||
		cfg.SecretEnvPrefix != "HASURA_PREVIEW_SECRET_" || cfg.LogLevel != slog.LevelInfo || cfg.LogFormat != "json" {
		t.Errorf("defaults differ from the documented ones: %s", cfg)
	}
}

func TestLoadEveryVariable(t *testing.T) {
	env := minimal(t)
	for k, v := range map[string]string{
		"HASURA_CLOUD_ENDPOINT":         "http://127.0.0.1:9/v1/graphql",
		"GITHUB_API_URL":                "https://ghe.example.com/api/v3",
		"DATABASE_URL":                  "postgres://svc:" + dbPassword + "@db:5432/preview",
		"LISTEN_ADDR":                   "127.0.0.1:9090",
		"DASHBOARD_LISTEN_ADDR":         "[::1]:9091",
		"WORKERS":                       "3",
		"CLOUD_RATE_LIMIT":              "0.5",
		"CLOUD_RATE_BURST":              "2",
		"MAX_PREVIEWS_PER_INSTALLATION": "25",
		"PREVIEW_TTL":                   "168h",
		"TTL_WARNING":                   "12h",
		"SWEEP_INTERVAL":                "30s",
		"PREVIEW_DEADLINE":              "45m",
		"SECRET_ENV_PREFIX":             "PREVIEW_SECRETS_",
		"LOG_LEVEL":                     "debug",
		"LOG_FORMAT":                    "TEXT",
	} {
		env[k] = v
	}
	cfg, err := Load(nil, getenv(env))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	got := []any{cfg.CloudEndpoint, cfg.GitHubAPIURL, cfg.DatabaseURL, cfg.ListenAddr, cfg.DashboardListenAddr, cfg.Workers, cfg.CloudRateLimit,
		cfg.CloudRateBurst, cfg.MaxPreviewsPerInstallation, cfg.PreviewTTL, cfg.TTLWarning, cfg.SweepInterval,
		cfg.PreviewDeadline, cfg.SecretEnvPrefix, cfg.LogLevel, cfg.LogFormat}
	want := []any{"http://127.0.0.1:9/v1/graphql", "https://ghe.example.com/api/v3/", "postgres://svc:" + dbPassword + "@db:5432/preview",
		"127.0.0.1:9090", "[::1]:9091", 3, 0.5, 2, 25, 168 * time.Hour, 12 * time.Hour, 30 * time.Second, 45 * time.Minute,
		"PREVIEW_SECRETS_", slog.LevelDebug, "text"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load =\n%v\nwant\n%v", got, want)
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	env := minimal(t)
	env["WORKERS"] = "not-a-number" // overridden, so not a problem
	env["LOG_LEVEL"] = "warn"
	cfg, err := Load([]string{"-workers", "7", "-log-level=error", "-preview-ttl", "0", "-github-app-id", "99"}, getenv(env))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Workers != 7 || cfg.LogLevel != slog.LevelError || cfg.PreviewTTL != 0 || cfg.GitHubAppID != 99 {
		t.Errorf("flags did not win: %s", cfg)
	}
}

func TestPrivateKeyForms(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(file, []byte(pkcs8(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, set := range map[string]map[string]string{
		"PKCS#1 text":          {"GITHUB_APP_PRIVATE_KEY": pkcs1(t)},
		"PKCS#8 text":          {"GITHUB_APP_PRIVATE_KEY": pkcs8(t)},
		"escaped newlines":     {"GITHUB_APP_PRIVATE_KEY": strings.ReplaceAll(pkcs1(t), "\n", `\n`)},
		"file":                 {"GITHUB_APP_PRIVATE_KEY_FILE": file},
		"surrounding newlines": {"GITHUB_APP_PRIVATE_KEY": "\n" + pkcs1(t) + "\n\n"},
	} {
		env := minimal(t)
		delete(env, "GITHUB_APP_PRIVATE_KEY")
		for k, v := range set {
			env[k] = v
		}
		cfg, err := Load(nil, getenv(env))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !cfg.PrivateKey().Equal(key(t)) {
			t.Errorf("%s: wrong key", name)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		// No App credentials is setup mode, not a problem: WithStoredApp
		// checks them once the stored ones are known.
		{"nothing set", map[string]string{}, nil, []string{
			"HASURA_CLOUD_ACCESS_TOKEN: required (a Hasura Cloud personal access token)",
		}},
		{"bad public URLs", map[string]string{"HASURA_CLOUD_ACCESS_TOKEN": cloudToken, "PUBLIC_URL": "previews.example.com", "WEBHOOK_PROXY_URL": "ftp://smee.io/x"}, nil, []string{
			"PUBLIC_URL: must be an absolute http(s) URL",
			"WEBHOOK_PROXY_URL: must be an http(s) URL",
		}},
		{"unparseable values", map[string]string{
			"HASURA_CLOUD_ACCESS_TOKEN": cloudToken, "GITHUB_WEBHOOK_SECRET": webhookSecret, "GITHUB_APP_PRIVATE_KEY": pkcs1(t),
			"GITHUB_APP_ID": "xx-my-app", "WORKERS": "xx-ten", "CLOUD_RATE_LIMIT": "xx-fast", "PREVIEW_TTL": "7d",
			"SWEEP_INTERVAL": "often", "LOG_LEVEL": "xx-loud", "SANDBOX": "maybe",
		}, []string{"-cloud-rate-burst", "xx-many"}, []string{
			"GITHUB_APP_ID: must be a positive whole number",
			"WORKERS: must be a whole number",
			"CLOUD_RATE_LIMIT: must be a number of calls per second",
			"CLOUD_RATE_BURST (-cloud-rate-burst): must be a whole number",
			"PREVIEW_TTL: must be a duration in hours, minutes or seconds (168h for 7 days)",
			"SWEEP_INTERVAL: must be a duration such as 90s, 20m or 168h",
			"LOG_LEVEL: must be debug, info, warn or error",
			"SANDBOX: must be true or false",
		}},
		{"out of range", map[string]string{
			"WORKERS": "0", "CLOUD_RATE_LIMIT": "0", "CLOUD_RATE_BURST": "0", "MAX_PREVIEWS_PER_INSTALLATION": "-1",
			"PREVIEW_TTL": "24h", "TTL_WARNING": "24h", "SWEEP_INTERVAL": "10ms", "PREVIEW_DEADLINE": "30s",
			"LISTEN_ADDR": "8080", "DASHBOARD_LISTEN_ADDR": ":8081", "LOG_FORMAT": "xml", "HASURA_CLOUD_ENDPOINT": "data.pro.hasura.io/v1/graphql",
			"GITHUB_API_URL": "https://x:" + webhookSecret + "@ghe.example.com/", "DATABASE_URL": "mysql://u:" + dbPassword + "@h/db",
		}, nil, []string{
			"HASURA_CLOUD_ENDPOINT: must be an absolute http(s) URL",
			"GITHUB_API_URL: must not hold credentials",
			"DATABASE_URL: unsupported scheme: use a SQLite file path or a postgres:// URL",
			"LISTEN_ADDR: must be host:port or :port",
			"DASHBOARD_LISTEN_ADDR: must be a loopback address (127.0.0.1:PORT, [::1]:PORT or localhost:PORT): it serves the dashboard without a password",
			"WORKERS: must be between 1 and 1000",
			"CLOUD_RATE_LIMIT: must be more than 0 calls per second",
			"CLOUD_RATE_BURST: must be at least 1",
			"MAX_PREVIEWS_PER_INSTALLATION: must be 0 (no limit) or more",
			"TTL_WARNING: must be shorter than PREVIEW_TTL (24h)",
			"SWEEP_INTERVAL: must be at least 1s",
			"PREVIEW_DEADLINE: must be at least 1m0s: a preview build takes minutes",
			"LOG_FORMAT: must be json or text",
		}},
		{"both key forms", map[string]string{"GITHUB_APP_PRIVATE_KEY_FILE": "/nonexistent"}, nil, []string{
			"GITHUB_APP_PRIVATE_KEY: set either GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE, not both",
		}},
		{"unreadable key file", map[string]string{"GITHUB_APP_PRIVATE_KEY": "", "GITHUB_APP_PRIVATE_KEY_FILE": "/nonexistent/app.pem"}, nil, []string{
			"GITHUB_APP_PRIVATE_KEY_FILE: cannot read the key: open /nonexistent/app.pem: no such file or directory",
		}},
		{"not PEM", map[string]string{"GITHUB_APP_PRIVATE_KEY": "-----nope " + webhookSecret}, nil, []string{
			"GITHUB_APP_PRIVATE_KEY: is not a PEM private key (expected -----BEGIN RSA PRIVATE KEY-----)",
		}},
		{"not RSA", map[string]string{"GITHUB_APP_PRIVATE_KEY": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))}, nil, []string{
			"GITHUB_APP_PRIVATE_KEY: is a *ecdsa.PrivateKey, but GitHub App keys are RSA",
		}},
		{"public key", map[string]string{"GITHUB_APP_PRIVATE_KEY": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}))}, nil, []string{
			"GITHUB_APP_PRIVATE_KEY: holds a PEM block of type \"PUBLIC KEY\", not an RSA private key",
		}},
		{"corrupt PKCS#1", map[string]string{"GITHUB_APP_PRIVATE_KEY": string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte("junk")}))}, nil, []string{
			"GITHUB_APP_PRIVATE_KEY: is not a valid PKCS#1 RSA private key",
		}},
		{"encrypted", map[string]string{"GITHUB_APP_PRIVATE_KEY": string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}}))}, nil, []string{
			"GITHUB_APP_PRIVATE_KEY: is encrypted: give the key GitHub generated, without a passphrase",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env
			if tt.name != "nothing set" && tt.name != "unparseable values" {
				base := minimal(t)
				for k, v := range tt.env {
					base[k] = v
				}
				env = base
			}
			_, err := Load(tt.args, getenv(env))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Load = %v, want a *ValidationError", err)
			}
			var got []string
			for _, p := range ve.Problems {
				got = append(got, p.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			for _, secret := range []string{cloudToken, webhookSecret, dbPassword, "xx-"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error quotes a value (%q): %v", secret, err)
				}
			}
		})
	}
}

func TestSecretPrefixMustNotReachTheServiceOwnSecrets(t *testing.T) {
	for _, prefix := range []string{"", "X_", "GITHUB_", "HASURA_", "HASURA_CLOUD_", "GITHUB_APP_", "lower_case_", "NO_UNDERSCORE"} {
		env := minimal(t)
		env["SECRET_ENV_PREFIX"] = prefix
		_, err := Load([]string{"-secret-env-prefix=" + prefix}, getenv(env))
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Var != "SECRET_ENV_PREFIX" {
			t.Errorf("prefix %q: Load = %v, want one SECRET_ENV_PREFIX problem", prefix, err)
		}
	}
}

func TestErrorListsOneProblemPerLine(t *testing.T) {
	_, err := Load(nil, getenv(map[string]string{"WORKERS": "0"}))
	lines := strings.Split(err.Error(), "\n")
	if lines[0] != "invalid configuration (2 problems):" || len(lines) != 3 {
		t.Errorf("Error() =\n%s", err)
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "  ") || !strings.Contains(l, ": ") {
			t.Errorf("line %q does not name one variable", l)
		}
	}
}

func TestSandboxNeedsNoCredentials(t *testing.T) {
	for _, args := range [][]string{{"-sandbox"}, {"-sandbox=true"}} {
		cfg, err := Load(args, getenv(nil))
		if err != nil {
			t.Fatalf("Load(%v): %v", args, err)
		}
		if !cfg.Sandbox || cfg.CloudToken != SandboxCloudToken || cfg.GitHubAppID != SandboxAppID ||
			cfg.WebhookSecret != SandboxWebhookSecret || cfg.PrivateKey() == nil {
			t.Errorf("Load(%v) = %s", args, cfg)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("Validate of a sandbox config: %v", err)
		}
	}
	// Given values are kept.
	cfg, err := Load(nil, getenv(map[string]string{"SANDBOX": "1", "GITHUB_APP_ID": "5", "GITHUB_APP_PRIVATE_KEY": pkcs1(t)}))
	if err != nil || cfg.GitHubAppID != 5 || !cfg.PrivateKey().Equal(key(t)) {
		t.Errorf("sandbox with values = %s, %v", cfg, err)
	}
	// Other settings are still checked.
	if _, err := Load([]string{"-sandbox", "-workers=0"}, getenv(nil)); err == nil {
		t.Error("sandbox skipped the other checks")
	}
	// -sandbox=false on the command line beats SANDBOX=true.
	if _, err := Load([]string{"-sandbox=false"}, getenv(map[string]string{"SANDBOX": "true"})); err == nil {
		t.Error("-sandbox=false left the sandbox on")
	}
}

func TestRedaction(t *testing.T) {
	env := minimal(t)
	env["DATABASE_URL"] = "postgres://svc:" + dbPassword + "@db:5432/preview"
	cfg, err := Load(nil, getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "config", cfg)
	keyLine := strings.Split(pkcs1(t), "\n")[1]
	for name, out := range map[string]string{
		"String": cfg.String(), "%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg),
		"%#v": fmt.Sprintf("%#v", cfg), "slog": logs.String(),
	} {
		for _, secret := range []string{cloudToken, webhookSecret, dbPassword, keyLine} {
			if strings.Contains(out, secret) {
				t.Errorf("%s shows a secret: %s", name, out)
			}
		}
		for _, shown := range []string{"4242", "hasura_cloud_access_token", "[redacted]", "db:5432/preview"} {
			if !strings.Contains(strings.ToLower(out), strings.ToLower(shown)) {
				t.Errorf("%s does not show %q: %s", name, shown, out)
			}
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"hasura-preview.db", "hasura-preview.db"},
		{"postgresql://u:p@h/db", "postgresql://u:xxxxx@h/db"},
		{"mysql://u:p@h/db", "(not shown)"},
		{"host=h password=p", "(not shown)"},
	} {
		if got := redactDatabaseURL(tt.in); got != tt.want {
			t.Errorf("redactDatabaseURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHelpAndArguments(t *testing.T) {
	var out bytes.Buffer
	usageOutput = &out
	t.Cleanup(func() { usageOutput = os.Stderr })
	if _, err := Load([]string{"-h"}, getenv(nil)); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("Load(-h) = %v, want flag.ErrHelp", err)
	}
	for _, r := range Table() {
		if !strings.Contains(out.String(), r.Env) || !strings.Contains(out.String(), r.Flag+",") {
			t.Errorf("-h does not list %s / %s", r.Env, r.Flag)
		}
	}
	if _, err := Load([]string{"-no-such-flag"}, getenv(minimal(t))); err == nil || !strings.Contains(err.Error(), "no-such-flag") {
		t.Errorf("unknown flag: %v", err)
	}
	if _, err := Load([]string{"-workers=2", webhookSecret}, getenv(minimal(t))); err == nil || strings.Contains(err.Error(), webhookSecret) {
		t.Errorf("stray argument: %v", err)
	}
}

func TestTable(t *testing.T) {
	rows := Table()
	want := []string{
		"HASURA_CLOUD_ACCESS_TOKEN", "HASURA_CLOUD_ENDPOINT", "GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY",
		"GITHUB_APP_PRIVATE_KEY_FILE", "GITHUB_WEBHOOK_SECRET", "DASHBOARD_PASSWORD", "DASHBOARD_LISTEN_ADDR", "GITHUB_API_URL", "PUBLIC_URL", "WEBHOOK_PROXY_URL",
		"DATABASE_URL", "LISTEN_ADDR", "WORKERS", "CLOUD_RATE_LIMIT", "CLOUD_RATE_BURST", "MAX_PREVIEWS_PER_INSTALLATION", "PREVIEW_TTL",
		"TTL_WARNING", "SWEEP_INTERVAL", "PREVIEW_DEADLINE", "SECRET_ENV_PREFIX", "SECRET_SCOPE", "LOG_LEVEL", "LOG_FORMAT", "SANDBOX",
	}
	var got []string
	defaults := map[string]string{}
	for _, r := range rows {
		got = append(got, r.Env)
		defaults[r.Env] = r.Default
		if r.Description == "" || r.Flag != "-"+strings.ReplaceAll(strings.ToLower(r.Env), "_", "-") {
			t.Errorf("row %+v", r)
		}
		if r.Secret && r.Default != "" {
			t.Errorf("secret %s has a default shown", r.Env)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Table env vars = %v", got)
	}
	for env, def := range map[string]string{
		"HASURA_CLOUD_ENDPOINT": "https://data.pro.hasura.io/v1/graphql", "GITHUB_API_URL": "https://api.github.com/",
		"DATABASE_URL": "hasura-preview.db", "LISTEN_ADDR": ":8080", "WORKERS": "10", "CLOUD_RATE_LIMIT": "2",
		"CLOUD_RATE_BURST": "4", "MAX_PREVIEWS_PER_INSTALLATION": "0", "PREVIEW_TTL": "0", "TTL_WARNING": "24h",
		"SWEEP_INTERVAL": "5m", "PREVIEW_DEADLINE": "20m", "SECRET_ENV_PREFIX": "HASURA_PREVIEW_SECRET_", "SECRET_SCOPE": "repo",
		"LOG_LEVEL": "info", "LOG_FORMAT": "json", "SANDBOX": "false", "GITHUB_APP_ID": "",
	} {
		if defaults[env] != def {
			t.Errorf("default of %s = %q, want %q", env, defaults[env], def)
		}
	}
}

// The README's configuration reference must cover every setting.
func TestREADMEMentionsEverySetting(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?mi)^#+ .*configuration`).Match(data) {
		t.Fatal("README.md has no configuration section")
	}
	for _, r := range Table() {
		if !strings.Contains(string(data), r.Env) {
			t.Errorf("README.md does not mention %s", r.Env)
		}
	}
}

func TestValidateHandBuiltConfig(t *testing.T) {
	c := Default()
	c.CloudToken, c.GitHubAppID, c.WebhookSecret, c.GitHubAppPrivateKey = cloudToken, 1, webhookSecret, pkcs8(t)
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if !c.PrivateKey().Equal(key(t)) {
		t.Error("PrivateKey of a hand-built Config is not its key")
	}
	c.GitHubAppPrivateKey = "garbage"
	if c.PrivateKey() != nil || c.Validate() == nil {
		t.Error("an invalid key passed")
	}
}

func TestSecretScopeIsValidated(t *testing.T) {
	env := map[string]string{"SANDBOX": "true", "SECRET_SCOPE": "Shared"}
	cfg, err := Load(nil, func(k string) string { return env[k] })
	if err != nil || cfg.SecretScope != SecretScopeShared {
		t.Fatalf("SECRET_SCOPE=Shared: %v, %q", err, cfg.SecretScope)
	}
	env["SECRET_SCOPE"] = "everyone"
	cfg, err = Load(nil, func(k string) string { return env[k] })
	if err == nil {
		err = cfg.Validate()
	}
	if err == nil || !strings.Contains(err.Error(), "SECRET_SCOPE") {
		t.Fatalf("SECRET_SCOPE=everyone: %v", err)
	}
}
