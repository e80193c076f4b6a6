package reliability

import (
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/repoconfig"
)

// TestHostileRepoConfigs checks what the reconciler would post on the PR
// for each config: Parse then Resolve against the service environment.
// Every message must say what the table wants and quote no secret value.
func TestHostileRepoConfigs(t *testing.T) {
	cases := HostileConfigs()
	if len(cases) < 20 {
		t.Fatalf("only %d config cases", len(cases))
	}
	secrets := map[string]string{"JWT secret": ConfigJWTSecret, "PG server URL": ConfigPGServer,
		"bad PG URL": ConfigBadPGServer, "App key": ConfigEnv("GITHUB_APP_PRIVATE_KEY")}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			start := time.Now()
			var msg string
			cfg, err := repoconfig.Parse([]byte(c.YAML))
			if err == nil {
				_, err = cfg.Resolve(ConfigEnv, ConfigSecretPrefix)
			}
			if took := time.Since(start); took > 5*time.Second {
				// Not a speed target: a config that takes this long is a denial of service.
				t.Fatalf("took %s", took)
			}
			if err != nil {
				msg = err.Error()
				t.Logf("posted: %s", msg)
			}
			if c.OK {
				if err != nil {
					t.Fatalf("valid config refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.Want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			leaks, err := ScanSecrets(secrets, map[string]string{"message": msg})
			if err != nil || len(leaks) > 0 {
				t.Errorf("message leaks: %v %v", leaks, err)
			}
		})
	}
}
