package cloud_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
)

func TestAuthorizationHeader(t *testing.T) {
	var got http.Header
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		_, _ = w.Write([]byte(`{"data":{"projects":[]}}`))
	}))
	_, err := firstProject(clientFor(t, url), context.Background(), "x")
	checkClass(t, err, cloud.ErrNotFound)
	if a := got.Get("Authorization"); a != "pat "+testPAT {
		t.Errorf("Authorization = %q", a)
	}
	if ct := got.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
}

// syncBuffer lets handlers and the test share a log buffer under -race.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestPATNeverShown(t *testing.T) {
	const wrongPAT = "hcpat-Wr0ng-but-still-a-secret"
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, nil, cloud.WithLogger(logger), cloud.WithTimeout(50*time.Millisecond))
	info := e.built("shop-pr-40")
	ctx := context.Background()

	var errs []error
	keep := func(_ any, err error) {
		if err == nil {
			t.Fatal("want an error")
		}
		errs = append(errs, err)
	}
	keep(e.newClient(wrongPAT, cloud.WithLogger(logger)).ProjectsByName(ctx, "shop-pr-40"))
	keep(e.client.Job(ctx, unknownID))
	keep(e.client.Job(ctx, "not-a-uuid"))
	keep(e.client.UpdateTenantEnv(ctx, info.TenantID, "stale", []cloud.EnvVar{{Key: "A", Value: "1"}}))
	e.sim.Inject(cloudsim.Fault{Op: cloud.OpProjects, Kind: cloudsim.FaultServerError, Count: 10})
	keep(e.client.ProjectsByName(ctx, "shop-pr-40"))
	e.sim.Inject(cloudsim.Fault{Op: cloud.OpProject, Kind: cloudsim.FaultSlow, Delay: time.Hour, Count: 10})
	keep(e.client.Project(ctx, info.ID))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	keep(e.client.TenantEnv(cancelled, info.TenantID))
	html401 := answer(t, 401, nil, "<html>Unauthorized</html>")
	keep(clientFor(t, html401, cloud.WithLogger(logger)).TenantEnv(ctx, info.TenantID))
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	keep(clientFor(t, dead.URL, cloud.WithLogger(logger)).Job(ctx, unknownID))

	var shown []string
	for _, err := range errs {
		shown = append(shown, fmt.Sprintf("%v | %+v | %#v | %s", err, err, err, err.Error()))
	}
	holder := struct {
		Client *cloud.Client
		Any    any
	}{e.client, e.client}
	shown = append(shown,
		fmt.Sprintf("%v %+v %#v %s", e.client, e.client, e.client, e.client),
		fmt.Sprintf("%v %+v %#v", holder, holder, holder))
	logger.Info("client in a log line", "client", e.client, "holder", holder)
	shown = append(shown, logs.String())

	for _, s := range shown {
		for _, secret := range []string{testPAT, wrongPAT} {
			if strings.Contains(s, secret) {
				t.Errorf("a token is shown in %q", s)
			}
		}
	}
	// The log must have been exercised for its silence to mean anything.
	for _, want := range []string{"retrying hasura cloud call", "hasura cloud call failed", "[redacted]"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log has no %q:\n%s", want, logs.String())
		}
	}
}

// Every value goes in variables: the query text is fixed, so no value can
// change its meaning (GraphQL injection) or end up in a query log.
func TestValuesOnlyInVariables(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	in := cloud.PreviewApp{
		GitHubToken: "ghp_vo_token_31", Owner: "vo-owner-31", Repo: "vo-repo-31", Branch: `vo-branch"){x}31`,
		Directory: "vo-dir-31", Name: "vo-app-31", Cloud: "gcp", Region: "vo-region-31", Plan: "vo-plan-31",
		Env: []cloud.EnvVar{{Key: "VO_KEY_31", Value: "vo-value-31"}},
	}
	values := []string{in.GitHubToken, in.Owner, in.Repo, in.Branch, in.Directory, in.Name, in.Region, in.Plan,
		"VO_KEY_31", "vo-value-31", "VO_KEY_33", "vo-value-33"}

	jobID, err := e.client.CreateGitHubPreviewApp(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(cloudsim.DefaultCreationDuration)
	if _, err := e.client.Job(ctx, jobID); err != nil {
		t.Fatal(err)
	}
	p, err := firstProject(e.client, ctx, in.Name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Project(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	env, err := e.client.TenantEnv(ctx, p.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	next, err := e.client.UpdateTenantEnv(ctx, p.TenantID, env.Hash, []cloud.EnvVar{{Key: "VO_KEY_33", Value: "vo-value-33"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.DeleteTenantEnv(ctx, p.TenantID, next.Hash, []string{"VO_KEY_31"}); err != nil {
		t.Fatal(err)
	}
	if err := e.client.DeleteTenant(ctx, p.TenantID); err != nil {
		t.Fatal(err)
	}
	values = append(values, jobID, p.ID, p.TenantID, env.Hash)

	log := e.sim.Log()
	ops := map[string]bool{}
	var variables strings.Builder
	for _, rec := range log {
		for _, op := range rec.Ops {
			ops[op] = true
		}
		for _, v := range values {
			if strings.Contains(rec.Query, v) {
				t.Errorf("%v: value %q is in the query text", rec.Ops, v)
			}
		}
		variables.Write(rec.Variables)
	}
	for _, v := range values {
		if !strings.Contains(variables.String(), strings.ReplaceAll(v, `"`, `\"`)) {
			t.Errorf("value %q was never sent as a variable", v)
		}
	}
	for _, op := range []string{cloud.OpCreatePreviewApp, cloud.OpJob, cloud.OpProjects, cloud.OpProject,
		cloud.OpGetTenantEnv, cloud.OpUpdateTenantEnv, cloud.OpDeleteTenantEnv, cloud.OpDeleteTenant} {
		if !ops[op] {
			t.Errorf("no %s in the simulator's log", op)
		}
	}
}
