package sandbox_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/ghapp"
	"github.com/hasura-preview/hasura-preview/internal/repoconfig"
	"github.com/hasura-preview/hasura-preview/internal/sandbox"
)

func TestPullRequestPayload(t *testing.T) {
	at := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	body, err := sandbox.PullRequest{
		Action: "synchronize", Owner: "acme", Repo: "shop", Number: 41, Branch: "feat/x", SHA: "bbb", Before: "aaa",
		UpdatedAt: at, InstallationID: 77, APIURL: "http://127.0.0.1:1/api/v3",
	}.Payload()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), "https://api.github.com/") {
		t.Error("the payload still points at api.github.com")
	}
	var ev github.PullRequestEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	pr := ev.GetPullRequest()
	for name, got := range map[string][2]any{
		"action":       {ev.GetAction(), "synchronize"},
		"number":       {ev.GetNumber(), 41},
		"pr number":    {pr.GetNumber(), 41},
		"repo":         {ev.GetRepo().GetFullName(), "acme/shop"},
		"owner":        {ev.GetRepo().GetOwner().GetLogin(), "acme"},
		"base repo":    {pr.GetBase().GetRepo().GetFullName(), "acme/shop"},
		"head repo":    {pr.GetHead().GetRepo().GetFullName(), "acme/shop"},
		"head ref":     {pr.GetHead().GetRef(), "feat/x"},
		"base ref":     {pr.GetBase().GetRef(), sandbox.BaseBranch},
		"head sha":     {pr.GetHead().GetSHA(), "bbb"},
		"before":       {ev.GetBefore(), "aaa"},
		"after":        {ev.GetAfter(), "bbb"},
		"updated_at":   {pr.GetUpdatedAt().UTC(), at},
		"installation": {ev.GetInstallation().GetID(), int64(77)},
		"pulls url":    {strings.HasPrefix(pr.GetURL(), "http://127.0.0.1:1/api/v3/repos/"), true},
	} {
		if got[0] != got[1] {
			t.Errorf("%s = %v, want %v", name, got[0], got[1])
		}
	}

	closed, err := sandbox.PullRequest{Action: "closed", Merged: true, UpdatedAt: at}.Payload()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(closed, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.GetPullRequest().GetState() != "closed" || !ev.GetPullRequest().GetMerged() || ev.GetPullRequest().GetClosedAt().UTC() != at {
		t.Errorf("closed payload: state %q merged %v closed_at %v", ev.GetPullRequest().GetState(), ev.GetPullRequest().GetMerged(), ev.GetPullRequest().GetClosedAt())
	}
	// Unset fields keep the bundled PR.
	if ev.GetRepo().GetFullName() != sandbox.Owner+"/"+sandbox.Repo || ev.GetNumber() != sandbox.PRNumber || ev.GetPullRequest().GetHead().GetRef() != sandbox.Branch {
		t.Errorf("defaults changed: %s#%d on %s", ev.GetRepo().GetFullName(), ev.GetNumber(), ev.GetPullRequest().GetHead().GetRef())
	}

	if _, err := (sandbox.PullRequest{Action: "labeled"}).Payload(); err == nil {
		t.Error("an action without a bundled payload was accepted")
	}
}

func TestInstallationDeleted(t *testing.T) {
	body, err := sandbox.InstallationDeleted(99, "")
	if err != nil {
		t.Fatal(err)
	}
	var ev github.InstallationEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.GetAction() != "deleted" || ev.GetInstallation().GetID() != 99 {
		t.Errorf("got %s of installation %d", ev.GetAction(), ev.GetInstallation().GetID())
	}
}

func TestPostSignsLikeGitHub(t *testing.T) {
	secret := []byte("s3cret")
	var got http.Header
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"outcome":"accepted"}`))
	}))
	defer srv.Close()
	status, answer, err := sandbox.Post(context.Background(), nil, srv.URL, secret, sandbox.Delivery{Event: "pull_request", Body: []byte(`{"a":1}`), AppID: 5})
	if err != nil || status != http.StatusAccepted || answer != `{"outcome":"accepted"}` {
		t.Fatalf("Post = %d %q %v", status, answer, err)
	}
	// Checked by go-github's verifier, not by the Sign that Post calls.
	if err := github.ValidateSignature(got.Get("X-Hub-Signature-256"), body, secret); err != nil || string(body) != `{"a":1}` {
		t.Errorf("signature %q does not match the body %q: %v", got.Get("X-Hub-Signature-256"), body, err)
	}
	if got.Get("X-GitHub-Event") != "pull_request" || len(got.Get("X-GitHub-Delivery")) != 36 ||
		got.Get("X-GitHub-Hook-Installation-Target-ID") != "5" || got.Get("X-GitHub-Hook-Installation-Target-Type") != "integration" {
		t.Errorf("headers %v", got)
	}
}

func TestSplitArgs(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == sandbox.ExitEnv {
				return v
			}
			return ""
		}
	}
	for _, c := range []struct {
		args    []string
		env     string
		rest    []string
		exit    bool
		wantErr bool
	}{
		{args: []string{"-sandbox"}, rest: []string{"-sandbox"}},
		{args: []string{"-sandbox", "-sandbox-exit"}, rest: []string{"-sandbox"}, exit: true},
		{args: []string{"--sandbox-exit", "-sandbox"}, rest: []string{"-sandbox"}, exit: true},
		{args: []string{"-sandbox-exit=false"}, env: "true", rest: []string{}, exit: false},
		{args: []string{"-sandbox"}, env: "1", rest: []string{"-sandbox"}, exit: true},
		{args: []string{"-sandbox-exit=maybe"}, wantErr: true},
		{args: []string{"-sandbox-exit", "-sandbox-exit"}, wantErr: true},
		{args: nil, env: "nope", wantErr: true},
		{args: []string{"--", "-sandbox-exit"}, rest: []string{"--", "-sandbox-exit"}},
		{args: []string{"-workers=3", "-sandbox-exit=true"}, rest: []string{"-workers=3"}, exit: true},
	} {
		rest, exit, err := sandbox.SplitArgs(c.args, env(c.env))
		if (err != nil) != c.wantErr {
			t.Errorf("SplitArgs(%q, env %q) error %v, want error %v", c.args, c.env, err, c.wantErr)
			continue
		}
		if c.wantErr {
			continue
		}
		if strings.Join(rest, " ") != strings.Join(c.rest, " ") || exit != c.exit {
			t.Errorf("SplitArgs(%q, env %q) = %q, %v; want %q, %v", c.args, c.env, rest, exit, c.rest, exit)
		}
	}
}

// TestStartServesSeededSimulators checks what the service will find: the
// App authenticates, its installation reads the repository config on the
// base branch and the PR, and the Cloud accepts the token.
func TestStartServesSeededSimulators(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	env, err := sandbox.Start(sandbox.Options{AppID: 7, PublicKey: &key.PublicKey, CloudToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx := context.Background()

	app, err := ghapp.New(7, key, env.GitHubURL)
	if err != nil {
		t.Fatal(err)
	}
	if bot, err := app.BotLogin(ctx); err != nil || bot != "hasura-preview[bot]" {
		t.Fatalf("BotLogin = %q, %v", bot, err)
	}
	gh, err := app.Installation(ctx, sandbox.InstallationID)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := repoconfig.Fetch(ctx, gh, sandbox.Owner, sandbox.Repo, sandbox.BaseBranch)
	if err != nil {
		t.Fatalf("reading the sandbox repository's config: %v", err)
	}
	if cfg.Directory != "hasura" || len(cfg.Env) != 2 {
		t.Errorf("config %+v", cfg)
	}
	pr, _, err := gh.PullRequests.Get(ctx, sandbox.Owner, sandbox.Repo, sandbox.PRNumber)
	if err != nil {
		t.Fatal(err)
	}
	if pr.GetHead().GetRef() != sandbox.Branch || pr.GetHead().GetSHA() != env.HeadSHA || pr.GetBase().GetRef() != sandbox.BaseBranch {
		t.Errorf("PR head %s@%s base %s", pr.GetHead().GetRef(), pr.GetHead().GetSHA(), pr.GetBase().GetRef())
	}

	cc, err := cloud.New("tok", cloud.WithEndpoint(env.CloudURL))
	if err != nil {
		t.Fatal(err)
	}
	if list, err := cc.ProjectsByName(ctx, "nothing-here"); err != nil {
		t.Errorf("the Cloud simulator refused the sandbox token: %v", err)
	} else if len(list) != 0 {
		t.Errorf("found %d projects in an empty Cloud", len(list))
	}
}
