package service_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/config"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/sandbox"
	"github.com/hasura-preview/hasura-preview/internal/service"
	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
)

func TestRunRejectsInvalidConfig(t *testing.T) {
	err := service.Run(context.Background(), config.Default(), service.Deps{Stdout: io.Discard, Stderr: io.Discard})
	var invalid *config.ValidationError
	if !errors.As(err, &invalid) {
		t.Fatalf("Run = %v, want a *config.ValidationError", err)
	}
	// Without App settings the service would start in setup mode; the
	// Cloud token is still required.
	for _, v := range []string{"HASURA_CLOUD_ACCESS_TOKEN"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("the error does not name %s:\n%v", v, err)
		}
	}
}

func TestRunFailsOnWrongAppKey(t *testing.T) {
	s := newSims(t)
	env := s.env(t, storetest.SQLitePath(t))
	env["GITHUB_APP_ID"] = "999" // ghsim knows only testAppID
	err := service.Run(context.Background(), load(t, env), fastDeps(t))
	if err == nil || !strings.Contains(err.Error(), "GITHUB_APP_ID") {
		t.Fatalf("Run = %v, want an error naming the App settings", err)
	}
	if strings.Contains(err.Error(), "PRIVATE KEY-----") {
		t.Error("the error carries the key")
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRoutes(t *testing.T) {
	s := newSims(t)
	svc := start(t, load(t, s.env(t, storetest.SQLitePath(t))), fastDeps(t))

	for _, c := range []struct {
		path   string
		status int
		has    string
	}{
		{"/healthz", 200, "ok"},
		{"/readyz", 200, "ready"},
		{"/", 200, "<title>hasura-preview</title>"},
		{"/metrics", 200, "go_goroutines"},
		{"/nope", 404, ""},
		{"/webhook", 405, ""}, // POST only
	} {
		code, body := get(t, svc.url+c.path)
		if code != c.status || !strings.Contains(body, c.has) {
			t.Errorf("GET %s = %d %.200q, want %d containing %q", c.path, code, body, c.status, c.has)
		}
	}

	// An unsigned delivery is refused; a signed one is taken.
	resp, err := http.Post(svc.url+"/webhook", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned delivery: %d", resp.StatusCode)
	}
	deliver(t, svc.url, "pull_request", prPayload(t, sandbox.PullRequest{Action: "opened", SHA: sandbox.FakeSHA("head 1"), UpdatedAt: time.Now()}))
	eventually(t, "the preview is built", func() bool { return len(s.cloud.Projects()) == 1 })

	_, metrics := get(t, svc.url+"/metrics")
	for _, series := range []string{
		`hasura_preview_webhook_deliveries_total{event="pull_request",outcome="accepted"} 1`,
		`hasura_preview_jobs{state="available"}`,
		`hasura_preview_cloud_calls_total{op="` + cloud.OpCreatePreviewApp + `",outcome="ok"} 1`,
		fmt.Sprintf(`hasura_preview_github_rate_limit_remaining{installation="%d"}`, sandbox.InstallationID),
		`process_`,
	} {
		if !strings.Contains(metrics, series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	if strings.Contains(metrics, testPAT) || strings.Contains(metrics, testSecret) {
		t.Error("/metrics leaks a secret")
	}
	if err := svc.stop(); err != nil {
		t.Fatalf("clean shutdown: %v", err)
	}
	if _, err := http.Get(svc.url + "/healthz"); err == nil {
		t.Error("the server still answers after Run returned")
	}
}

// TestLifecycle: signed deliveries through the real HTTP server create
// the preview, rebuild it on a push and delete it on close, with one
// comment that ends "deleted" and a deployment that ends inactive.
func TestLifecycle(t *testing.T) {
	s := newSims(t)
	svc := start(t, load(t, s.env(t, storetest.SQLitePath(t))), fastDeps(t))
	// The bot's login and the dashboard's App name come from one GET /app.
	if n := s.gh.CountRequests("GET", "/app"); n != 1 {
		t.Errorf("GET /app %d times at start-up, want 1", n)
	}
	t0 := time.Now().UTC().Truncate(time.Second)
	head1, head2 := sandbox.FakeSHA("head 1"), sandbox.FakeSHA("head 2")

	deliver(t, svc.url, "pull_request", prPayload(t, sandbox.PullRequest{Action: "opened", SHA: head1, UpdatedAt: t0}))
	var endpoint string
	eventually(t, "the comment shows the endpoint", func() bool {
		ps := s.cloud.Projects()
		if len(ps) != 1 {
			return false
		}
		endpoint = ps[0].Endpoint
		bodies := commentBodies(s.gh, sandbox.PRNumber)
		return len(bodies) == 1 && strings.Contains(bodies[0], endpoint) && deploymentState(s) == "success"
	})

	s.gh.UpdatePull(sandbox.Owner, sandbox.Repo, sandbox.PRNumber, func(p *ghsim.PullSpec) { p.HeadSHA = head2 })
	deliver(t, svc.url, "pull_request", prPayload(t, sandbox.PullRequest{Action: "synchronize", SHA: head2, Before: head1, UpdatedAt: t0.Add(time.Second)}))
	eventually(t, "the push is rebuilt", func() bool {
		ps := s.cloud.Projects()
		bodies := commentBodies(s.gh, sandbox.PRNumber)
		return len(ps) == 1 && ps[0].Builds == 2 && len(bodies) == 1 && strings.Contains(bodies[0], head2[:7]) &&
			strings.Contains(bodies[0], endpoint) && deploymentState(s) == "success"
	})

	s.gh.SetPullState(sandbox.Owner, sandbox.Repo, sandbox.PRNumber, "closed")
	deliver(t, svc.url, "pull_request", prPayload(t, sandbox.PullRequest{Action: "closed", SHA: head2, UpdatedAt: t0.Add(2 * time.Second)}))
	eventually(t, "the preview is deleted", func() bool {
		bodies := commentBodies(s.gh, sandbox.PRNumber)
		return len(s.cloud.Projects()) == 0 && len(bodies) == 1 && strings.Contains(bodies[0], "deleted") &&
			deploymentState(s) == "inactive"
	})
	if n := s.cloud.Count(cloud.OpCreatePreviewApp); n != 2 {
		t.Errorf("%d creates, want 2 (open, push)", n)
	}
}

// deploymentState is the latest status of the newest deployment.
func deploymentState(s *sims) string {
	ds := s.gh.Deployments(sandbox.Owner, sandbox.Repo)
	if len(ds) == 0 {
		return ""
	}
	st := ds[len(ds)-1].Statuses
	if len(st) == 0 {
		return "none"
	}
	return st[len(st)-1].State
}

// TestUninstall: the installation deleted delivery deletes the
// installation's previews and forgets its pull requests.
func TestUninstall(t *testing.T) {
	s := newSims(t)
	dbPath := storetest.SQLitePath(t)
	env := s.env(t, dbPath)
	env["SWEEP_INTERVAL"] = "1s" // the sweep forgets an installation once its previews are gone
	svc := start(t, load(t, env), fastDeps(t))
	deliver(t, svc.url, "pull_request", prPayload(t, sandbox.PullRequest{Action: "opened", SHA: sandbox.FakeSHA("head 1"), UpdatedAt: time.Now()}))
	eventually(t, "the preview is ready", func() bool { return len(s.cloud.Projects()) == 1 && deploymentState(s) == "success" })

	body, err := sandbox.InstallationDeleted(sandbox.InstallationID, s.ghURL)
	if err != nil {
		t.Fatal(err)
	}
	s.gh.RemoveInstallation(sandbox.InstallationID)
	deliver(t, svc.url, "installation", body)
	eventually(t, "the preview is deleted from the Cloud", func() bool { return len(s.cloud.Projects()) == 0 })

	eventually(t, "the dashboard lists no preview", func() bool {
		code, body := get(t, svc.url+"/")
		return code == http.StatusOK && strings.Contains(body, `id="no-previews"`)
	})
	if err := svc.stop(); err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t, dbPath, store.Options{})
	key := store.PRKey(sandbox.Owner, sandbox.Repo, sandbox.PRNumber)
	if _, err := st.GetPR(context.Background(), key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetPR after the uninstall: %v, want ErrNotFound", err)
	}
	if _, err := st.GetPreview(context.Background(), key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetPreview after the uninstall: %v, want ErrNotFound", err)
	}
	if inst, err := storetest.Installation(context.Background(), st, sandbox.InstallationID); err == nil && !inst.Deleted {
		t.Errorf("installation %d is still recorded as installed", inst.ID)
	}
}
