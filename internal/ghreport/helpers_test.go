package ghreport_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/ghapp"
	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// t0 is in the past on purpose: rate-limit resets the simulator names are
// then behind the wall clock, as they would be once really waited for.
var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

const (
	owner    = "acme"
	repoName = "app"
	prNumber = 7
	botToken = "ghs_bot-token-secret"
	botLogin = "github-actions[bot]"
	headSHA  = "0123456789abcdef0123456789abcdef01234567"
)

// sleeper records the waits asked for and moves the clock instead of
// sleeping.
type sleeper struct {
	clk   *clock.Manual
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	s.clk.Advance(d)
	return ctx.Err()
}

func (s *sleeper) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

type env struct {
	sim  *ghsim.Server
	base string
	clk  *clock.Manual
	slp  *sleeper
}

// newEnv starts the GitHub simulator under GitHub Enterprise's /api/v3/
// prefix (a client that builds absolute paths would miss it), with PR 7 on
// acme/app and a bot token that may write issues and deployments.
func newEnv(t *testing.T, opts ghsim.Options) *env {
	t.Helper()
	clk := clock.NewManual(t0)
	opts.Prefix = "/api/v3/"
	opts.Now = clk.Now
	sim, base := ghsim.NewTestServer(t, opts)
	sim.AddPull(owner, repoName, ghsim.PullSpec{Number: prNumber, HeadRef: "feature/orders", HeadSHA: headSHA})
	addToken(sim, botToken, map[string]string{
		"issues": "write", "pull_requests": "write", "deployments": "write", "contents": "read",
	})
	return &env{sim: sim, base: base, clk: clk, slp: &sleeper{clk: clk}}
}

func addToken(sim *ghsim.Server, token string, perms map[string]string) {
	sim.AddToken(token, ghsim.TokenSpec{Login: botLogin, Label: "bot", Repos: []string{owner + "/" + repoName}, Permissions: perms})
}

// client is a go-github client as production builds one for GHES.
func (e *env) client(t *testing.T, token string) *github.Client {
	t.Helper()
	c, err := ghapp.TokenClient(&http.Client{}, e.base, token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// reporter is a Reporter for PR 7 on the fake clock and sleep.
func (e *env) reporter(t *testing.T, opts ...ghreport.Option) *ghreport.Reporter {
	t.Helper()
	base := []ghreport.Option{ghreport.WithClock(e.clk.Now), ghreport.WithSleep(e.slp.Sleep)}
	return ghreport.New(e.client(t, botToken), owner, repoName, prNumber, append(base, opts...)...)
}

// comments returns the bodies of the PR's comments that carry marker.
func (e *env) marked(marker string) []ghsim.Comment {
	var out []ghsim.Comment
	for _, c := range e.sim.Comments(owner, repoName, prNumber) {
		if strings.Contains(c.Body, marker) {
			out = append(out, c)
		}
	}
	return out
}

func view(status preview.Status, tasks ...preview.TaskState) ghreport.View {
	return ghreport.View{
		Branch: "feature/orders",
		SHA:    headSHA,
		PR:     prNumber,
		Result: preview.Result{
			Name:     "app-pr-7",
			Status:   status,
			Endpoint: "https://app-pr-7.hasura.app/v1/graphql",
			Tasks:    tasks,
		},
	}
}

func running(name string) preview.TaskState {
	return preview.TaskState{Job: preview.JobDeployment, Name: name, State: preview.TaskRunning, Started: t0}
}

// muxEnv is the lightest double, after go-github's own tests: an httptest
// server whose mux, mounted under GitHub Enterprise's /api/v3/, answers
// only what the test registers, and a Reporter for PR 7 against it on a
// fake clock and sleep.
type muxEnv struct {
	mux *http.ServeMux
	clk *clock.Manual
	slp *sleeper
	rep *ghreport.Reporter
}

func newMuxEnv(t *testing.T, opts ...ghreport.Option) *muxEnv {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(http.StripPrefix("/api/v3", mux))
	t.Cleanup(srv.Close)
	gh, err := ghapp.TokenClient(&http.Client{}, srv.URL+"/api/v3/", botToken)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(t0)
	slp := &sleeper{clk: clk}
	base := []ghreport.Option{ghreport.WithClock(clk.Now), ghreport.WithSleep(slp.Sleep)}
	return &muxEnv{mux: mux, clk: clk, slp: slp, rep: ghreport.New(gh, owner, repoName, prNumber, append(base, opts...)...)}
}

// answer returns a handler that counts its requests in n and answers each
// with status, headers and a GitHub-style error message.
func answer(n *int, status int, headers map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		*n++
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"message":"` + http.StatusText(status) + `"}`))
	}
}
