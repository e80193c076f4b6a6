package reliability

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/sandbox"
)

// validName is what a Cloud app name must be: a DNS label.
var validName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// TestHostileAtService sends the hostile deliveries to the service
// subprocess (health checked after each) and opens one PR in each of 20
// repositories whose base-branch config is one of the hostile configs.
// Accepted hostile PRs must be built with a valid app name and their
// branch handed to the Cloud intact; a broken config must end in one
// comment quoting its problems and no app; no secret may show anywhere.
func TestHostileAtService(t *testing.T) {
	t.Parallel() // mostly waiting on subprocesses and poll intervals
	configs := HostileConfigs()
	// The valid case without its database: this test has no PostgreSQL to
	// hand the service.
	configs[0].YAML = "directory: hasura\nsecrets:\n  HASURA_GRAPHQL_JWT_SECRET: CLERK_JWT\n"
	owner := "HASURA_PREVIEW_SECRET_CODERTOCAT__"
	w, err := NewWorld(WorldOptions{Bin: builtService(t), Dir: t.TempDir(), PRs: len(configs), Repos: len(configs),
		Env: map[string]string{owner + "CLERK_JWT": ConfigJWTSecret, owner + "BAD_PG": ConfigBadPGServer,
			owner + "PG_SERVER": ConfigPGServer, "SECRET_SCOPE": "owner"}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cases := HostileDeliveries([]byte(WorldWebhookSecret))
	built := map[int]HostileDelivery{}
	for _, c := range cases {
		if c.PR != "" {
			var n int
			fmt.Sscanf(c.PR, "Codertocat/Hello-World#%d", &n)
			branch := c.Branch
			if branch == "" {
				branch = "changes"
			}
			w.SeedPull(n, branch, FixtureHeadSHA, c.Title)
			if n != 101 { // 101 carries no installation: nothing can be built for it
				built[n] = c
			}
		}
	}
	for i, c := range configs {
		w.SetRepoConfig(i+1, c.YAML)
	}
	ctx := context.Background()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range SendHostile(ctx, http.DefaultClient, w.URL+"/webhook", w.URL+"/healthz", []byte(WorldWebhookSecret), cases) {
		if !r.OK() {
			t.Errorf("%s", r)
		}
	}
	// The service listens on loopback without DASHBOARD_PASSWORD: its
	// dashboard answers this machine, but not a request a proxy on it
	// forwarded for someone else.
	for header, want := range map[string]int{"": http.StatusOK, "X-Forwarded-For": http.StatusForbidden,
		"Forwarded": http.StatusForbidden, "X-Real-IP": http.StatusForbidden} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.URL+"/", nil)
		if header != "" {
			req.Header.Set(header, "203.0.113.7")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("dashboard with %q: %d, want %d", header, resp.StatusCode, want)
		}
	}
	for i := range configs {
		if err := w.Open(ctx, i+1); err != nil {
			t.Fatal(err)
		}
	}

	helloComments := func(n int) []string {
		var out []string
		for _, c := range w.GitHub.Comments(sandbox.Owner, sandbox.Repo, n) {
			if strings.Contains(c.Body, "hasura-preview:comment") {
				out = append(out, c.Body)
			}
		}
		return out
	}
	// The hostile PRs are in the sandbox repository, whose config one of
	// the hostile configurations replaced: without a name template, the
	// service's default (with the repository hash) names the app.
	appOf := func(n int) (cloudsim.ProjectInfo, bool) { return w.projectIn(sandbox.Repo, n) }
	hostileUp := func(n int) bool {
		_, ok := appOf(n)
		cs := helloComments(n)
		return ok && len(cs) > 0 && strings.Contains(cs[len(cs)-1], "is ready")
	}
	configSettled := func(i int) bool {
		n := i + 1
		if configs[i].OK {
			return w.Up(n)
		}
		cs := w.Comments(n)
		return len(cs) > 0 && w.Gone(n)
	}
	settled := func() bool {
		for n := range built {
			if !hostileUp(n) {
				return false
			}
		}
		for i := range configs {
			if !configSettled(i) {
				return false
			}
		}
		return true
	}
	if !waitFor(ctx, 90*time.Second, settled) {
		t.Log("not everything settled within 90 s; reporting what stands")
	}
	time.Sleep(time.Second) // let in-flight comment edits land

	for n, c := range built {
		if !hostileUp(n) {
			t.Errorf("%s (PR %d): not built; comments: %q", c.Name, n, firstLines(helloComments(n)))
			continue
		}
		p, _ := appOf(n)
		if !validName.MatchString(p.Name) {
			t.Errorf("%s: app name %q is not a DNS label", c.Name, p.Name)
		}
		if c.Branch != "" && p.Branch != c.Branch {
			t.Errorf("%s: the Cloud got branch %.80q", c.Name, p.Branch)
		}
		if k := len(helloComments(n)); k != 1 {
			t.Errorf("%s: %d comments", c.Name, k)
		}
	}
	for i, c := range configs {
		n := i + 1
		cs := w.Comments(n)
		switch {
		case c.OK && !w.Up(n):
			t.Errorf("config %q: valid config not built; comments %q", c.Name, firstLines(cs))
		case !c.OK && !w.Gone(n):
			t.Errorf("config %q: built despite a broken config", c.Name)
		case !c.OK && len(cs) != 1:
			t.Errorf("config %q: %d comments, want 1", c.Name, len(cs))
		case !c.OK:
			for _, want := range c.Want {
				if !strings.Contains(cs[0], strings.Trim(want, "`")) {
					t.Errorf("config %q: the comment lacks %q:\n%s", c.Name, want, cs[0])
				}
			}
		}
	}
	if !healthy(ctx, http.DefaultClient, w.URL+"/healthz") {
		t.Fatal("the service is not healthy at the end")
	}
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	secrets := w.Secrets()
	for k, v := range map[string]string{"JWT secret": ConfigJWTSecret, "PG server URL": ConfigPGServer, "bad PG URL": ConfigBadPGServer} {
		secrets[k] = v
	}
	texts := map[string]string{"service logs": w.Logs()}
	for n := 1; n <= 200; n++ {
		for j, c := range append(w.Comments(n), helloComments(n)...) {
			texts[fmt.Sprintf("comment %d on PR %d", j, n)] = c
		}
	}
	leaks, err := ScanSecrets(secrets, texts)
	if err != nil || len(leaks) > 0 {
		t.Fatalf("leaks: %v %v", leaks, err)
	}
	if toks := InstallationTokens(w.Logs()); len(toks) > 0 {
		t.Fatalf("%d installation tokens in the logs", len(toks))
	}
}

func firstLines(cs []string) []string {
	var out []string
	for _, c := range cs {
		c = strings.TrimPrefix(c, "<!-- hasura-preview:comment -->\n")
		first, _, _ := strings.Cut(c, "\n")
		out = append(out, first)
	}
	return out
}
