package ghsim_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/config"
	"github.com/hasura-preview/hasura-preview/internal/ghapp"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

const testManifest = `{"name":"Preview Bot","url":"https://example.com","hook_attributes":{"url":"https://hooks.example.com/webhook"},
"redirect_url":"https://svc.example.com/setup/callback?x=1","public":false,
"default_permissions":{"contents":"read","pull_requests":"write"},"default_events":["pull_request","issue_comment"]}`

// postManifest submits the manifest form as a browser would and returns
// GitHub's redirect, unfollowed.
func postManifest(t *testing.T, webRoot, path, state, manifest string) *http.Response {
	t.Helper()
	u := webRoot + path
	if state != "" {
		u += "?state=" + url.QueryEscape(state)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.PostForm(u, url.Values{"manifest": {manifest}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// The manifest page redirects with a code and the state; the code buys the
// App's credentials once, and the new App can then mint installation
// tokens.
func TestManifestFlow(t *testing.T) {
	// The real clock: ghapp signs its JWTs with it.
	sim, base := ghsim.NewTestServer(t, ghsim.Options{Prefix: enterprise})
	webRoot := strings.TrimSuffix(base, enterprise)

	resp := postManifest(t, webRoot, "/organizations/acme/settings/apps/new", "st-123", testManifest)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("manifest page answered %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if loc.Host != "svc.example.com" || loc.Path != "/setup/callback" || q.Get("state") != "st-123" || q.Get("x") != "1" || q.Get("code") == "" {
		t.Fatalf("redirect to %s", loc)
	}

	gh := client(t, base, "")
	cfg, _, err := gh.Apps.CompleteAppManifest(context.Background(), q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	created := sim.CreatedApps()
	if len(created) != 1 {
		t.Fatalf("%d Apps created", len(created))
	}
	want := created[0]
	if cfg.GetID() != want.ID || cfg.GetSlug() != "preview-bot" || cfg.GetName() != "Preview Bot" ||
		cfg.GetOwner().GetLogin() != "acme" || cfg.GetOwner().GetType() != "Organization" ||
		cfg.GetHTMLURL() != "https://github.com/apps/preview-bot" ||
		cfg.GetWebhookSecret() != want.WebhookSecret || cfg.GetPEM() != want.PrivateKeyPEM ||
		cfg.GetClientID() != want.ClientID || cfg.GetClientSecret() != want.ClientSecret || cfg.GetWebhookSecret() == "" {
		t.Errorf("conversion = %+v", cfg)
	}
	if want.HookURL != "https://hooks.example.com/webhook" || !want.Converted || want.Events[1] != "issue_comment" {
		t.Errorf("recorded %+v", want)
	}

	// Single use.
	_, _, err = gh.Apps.CompleteAppManifest(context.Background(), q.Get("code"))
	wantStatus(t, err, http.StatusNotFound)

	// The new App authenticates: its JWT reads /app, and once installed it
	// mints tokens.
	key, err := config.ParsePrivateKey([]byte(cfg.GetPEM()))
	if err != nil {
		t.Fatal(err)
	}
	app, err := ghapp.New(cfg.GetID(), key, base)
	if err != nil {
		t.Fatal(err)
	}
	bot, err := app.BotLogin(context.Background())
	if err != nil || bot != "preview-bot[bot]" {
		t.Fatalf("BotLogin = %q, %v", bot, err)
	}
	sim.AddInstallation(cfg.GetID(), 55, owner, []string{repoName})
	if _, _, err := app.RepoReadToken(context.Background(), 55, owner, repoName); err != nil {
		t.Fatalf("the created App cannot mint a token: %v", err)
	}
}

// GitHub: "You must complete all three steps in the GitHub App Manifest
// flow within one hour."
func TestManifestCodeExpires(t *testing.T) {
	_, base, clk := newSim(t)
	webRoot := strings.TrimSuffix(base, enterprise)
	resp := postManifest(t, webRoot, "/settings/apps/new", "", testManifest)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Has("state") {
		t.Errorf("a state appeared from nowhere: %s", loc)
	}
	clk.Advance(time.Hour)
	_, _, err := client(t, base, "").Apps.CompleteAppManifest(context.Background(), loc.Query().Get("code"))
	wantStatus(t, err, http.StatusNotFound)
}

func TestManifestPageRefusesBadInput(t *testing.T) {
	sim, base, _ := newSim(t)
	webRoot := strings.TrimSuffix(base, enterprise)
	for name, tt := range map[string]struct{ path, manifest string }{
		"no hook url":      {"/settings/apps/new", `{"url":"https://e.com","redirect_url":"https://e.com/cb"}`},
		"no redirect":      {"/settings/apps/new", `{"url":"https://e.com","hook_attributes":{"url":"https://e.com/h"}}`},
		"relative":         {"/settings/apps/new", `{"url":"https://e.com","hook_attributes":{"url":"https://e.com/h"},"redirect_url":"/cb"}`},
		"not JSON":         {"/settings/apps/new", `name=x`},
		"bad organisation": {"/organizations/-x%2F..%2F/settings/apps/new", testManifest},
	} {
		if resp := postManifest(t, webRoot, tt.path, "", tt.manifest); resp.StatusCode < 400 {
			t.Errorf("%s: answered %d", name, resp.StatusCode)
		}
	}
	if n := len(sim.CreatedApps()); n != 0 {
		t.Errorf("%d Apps created from bad input", n)
	}
}
