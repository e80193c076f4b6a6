package config

import (
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary values to every setting (and an arbitrary flag):
// Load and Validate must never panic, and no error may quote the value given
// to a secret setting.
func FuzzLoad(f *testing.F) {
	f.Add("ghp_fuzzsecretvalue", "60", "postgres://u:pw@h/db", "1.5", "168h", "owner", "-workers=3")
	f.Add("", "abc", "", "-1", "-5m", "everyone", "-nope")
	f.Add("x\x00y", "9999999999999999999999", "file:x.db?_pragma=foo", "NaN", "1e9h", "SHARED", "--sandbox")
	f.Fuzz(func(t *testing.T, secret, appID, dbURL, rate, ttl, scope, flagArg string) {
		env := map[string]string{
			"HASURA_CLOUD_ACCESS_TOKEN": secret, "GITHUB_WEBHOOK_SECRET": secret, "GITHUB_APP_PRIVATE_KEY": secret,
			"GITHUB_APP_ID": appID, "DATABASE_URL": dbURL, "CLOUD_RATE_LIMIT": rate, "PREVIEW_TTL": ttl,
			"SECRET_SCOPE": scope, "WORKERS": appID, "TTL_WARNING": ttl, "SECRET_ENV_PREFIX": scope,
		}
		cfg, err := Load([]string{flagArg}, func(k string) string { return env[k] })
		if err == nil {
			err = cfg.Validate()
			_ = cfg.String()
		}
		if err != nil && len(secret) >= 8 && strings.Contains(err.Error(), secret) {
			t.Fatalf("an error quotes the secret value: %v", err)
		}
	})
}
