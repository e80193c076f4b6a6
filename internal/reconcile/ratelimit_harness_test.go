package reconcile

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/ghapp"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

// staticApp is a GitHubApp whose installations use fixed tokens registered
// in ghsim with a chosen hourly rate limit. ghsim gives the tokens an App
// mints the default limit (5,000), so a test that wants an installation at
// its limit within a few requests needs its own.
type staticApp struct {
	t    *testing.T
	gh   *ghsim.Server
	base string

	// real answers RepoInstalled: it asks with the App's JWT, which costs
	// no installation budget.
	real GitHubApp

	mu      sync.Mutex
	clients map[int64]*github.Client
	labels  map[int64]string
	tokens  map[int64]string
}

func newStaticApp(t *testing.T, gh *ghsim.Server, base string) *staticApp {
	return &staticApp{t: t, gh: gh, base: base, clients: map[int64]*github.Client{}, labels: map[int64]string{}, tokens: map[int64]string{}}
}

// add gives installation id (on account) a token with an hourly limit.
func (a *staticApp) add(id int64, account string, limit int) {
	a.t.Helper()
	label := "installation-" + strconv.FormatInt(id, 10)
	token := "ghs_static-" + label
	a.gh.AddToken(token, ghsim.TokenSpec{
		Label: label, Login: bot, AllRepos: true, Account: account,
		Permissions: ghsim.DefaultInstallationPermissions(), RateLimit: limit,
	})
	c, err := github.NewClient(nil).WithAuthToken(token).WithEnterpriseURLs(a.base, a.base)
	if err != nil {
		a.t.Fatal(err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.clients[id], a.labels[id], a.tokens[id] = c, label, token
}

func (a *staticApp) Installation(_ context.Context, id int64) (*github.Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.clients[id]
	if c == nil {
		return nil, fmt.Errorf("no token for installation %d", id)
	}
	return c, nil
}

// process returns the App as one process sees it: clients of its own over
// the same tokens, with that process's middleware.
func (a *staticApp) process(mw ghapp.Middleware) GitHubApp {
	return &processApp{staticApp: a, mw: mw, clients: map[int64]*github.Client{}}
}

type processApp struct {
	*staticApp
	mw      ghapp.Middleware
	mu      sync.Mutex
	clients map[int64]*github.Client
}

func (p *processApp) Installation(_ context.Context, id int64) (*github.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.clients[id]; c != nil {
		return c, nil
	}
	p.staticApp.mu.Lock()
	token := p.tokens[id]
	p.staticApp.mu.Unlock()
	if token == "" {
		return nil, fmt.Errorf("no token for installation %d", id)
	}
	c, err := ghapp.TokenClient(&http.Client{Transport: p.mw(id, http.DefaultTransport)}, p.base, token)
	if err != nil {
		return nil, err
	}
	p.clients[id] = c
	return c, nil
}

// RepoReadToken hands the Cloud a token of its own (the Cloud simulator
// does not clone), so that it costs the installation nothing here.
func (a *staticApp) RepoReadToken(_ context.Context, id int64, o, r string) (string, time.Time, error) {
	return "ghs_read-" + o + "-" + r, time.Time{}, nil
}

func (a *staticApp) BotLogin(context.Context) (string, error) { return bot, nil }

func (a *staticApp) Forget(int64) {}

func (a *staticApp) RepoInstalled(ctx context.Context, id int64, owner, repo string) (bool, error) {
	return a.real.RepoInstalled(ctx, id, owner, repo)
}

// requests counts the requests ghsim received with installation id's token,
// refused ones included.
func (a *staticApp) requests(id int64) int {
	return a.count(id, func(ghsim.Request) bool { return true })
}

// refused counts the requests with installation id's token that ghsim
// answered with a rate limit.
func (a *staticApp) refused(id int64) int {
	return a.count(id, func(r ghsim.Request) bool { return r.Status == 403 || r.Status == 429 })
}

// count counts the requests with installation id's token that match.
func (a *staticApp) count(id int64, match func(ghsim.Request) bool) int {
	a.mu.Lock()
	label := a.labels[id]
	a.mu.Unlock()
	n := 0
	for _, r := range a.gh.Requests() {
		if r.Principal == label && match(r) {
			n++
		}
	}
	return n
}

// spend makes n charged requests with installation id's token, as other
// work of the installation would.
func (a *staticApp) spend(id int64, account, name string, n int) {
	a.t.Helper()
	c, _ := a.Installation(context.Background(), id)
	for range n {
		if _, _, err := c.Repositories.Get(context.Background(), account, name); err != nil {
			a.t.Fatalf("spending the budget: %v", err)
		}
	}
}

// openIn opens PR n of account/name in installation inst (a repository
// that the harness's owner/repo constants do not name).
func (h *harness) openIn(inst int64, account, name string, n int) string {
	h.t.Helper()
	spec := ghsimPull(n)
	h.gh.AddPull(account, name, spec)
	pr := &store.PullRequest{
		Key: store.PRKey(account, name, n), InstallationID: inst, BaseOwner: account, BaseRepo: name, Number: n,
		HeadOwner: account, HeadRepo: name, Branch: spec.HeadRef, HeadSHA: spec.HeadSHA, BaseRef: "main",
		Title: "PR", Author: "alice",
	}
	h.record(pr, false)
	return pr.Key
}

// drive plays River for keys: each PR is reconciled when its snooze ends,
// earliest first, the clock moved to that moment. An error is retried as
// River would (after attempt⁴ seconds). It stops when every PR has settled
// or the next call would come after stop, and reports what happened.
func (h *harness) drive(keys []string, stop time.Time, observe func(key string, again time.Duration, err error)) driveResult {
	h.t.Helper()
	next := map[string]time.Time{}
	attempts := map[string]int{}
	for _, k := range keys {
		next[k] = h.clock.Now()
	}
	var res driveResult
	for len(next) > 0 {
		key, at := "", time.Time{}
		for k, t := range next {
			if key == "" || t.Before(at) || (t.Equal(at) && k < key) {
				key, at = k, t
			}
		}
		if at.After(stop) {
			break
		}
		if d := at.Sub(h.clock.Now()); d > 0 {
			h.clock.Advance(d)
		}
		again, err := h.rec.Reconcile(h.ctx, key)
		res.calls++
		if observe != nil {
			observe(key, again, err)
		}
		switch {
		case err != nil:
			res.errors++
			attempts[key]++
			a := time.Duration(attempts[key])
			next[key] = h.clock.Now().Add(cmp.Or(a*a*a*a, 1) * time.Second)
		case again > 0:
			attempts[key] = 0
			next[key] = h.clock.Now().Add(again)
		default:
			delete(next, key)
		}
		if res.calls > 20000 {
			h.t.Fatalf("no end in sight after %d calls", res.calls)
		}
	}
	res.left = len(next)
	return res
}

type driveResult struct {
	calls  int // Reconcile calls
	errors int // of which returned an error: River retries
	left   int // PRs still snoozed at stop
}

// readyComment reports whether PR n of account/name carries exactly one
// sticky comment, saying its preview is ready.
func (h *harness) readyComment(account, name string, n int) bool {
	found := 0
	ready := false
	for _, c := range h.gh.Comments(account, name, n) {
		if c.User == bot && strings.Contains(c.Body, "hasura-preview:comment") {
			found++
			ready = strings.Contains(c.Body, "is ready")
		}
	}
	return found == 1 && ready
}

// deployedOK reports whether account/name has exactly one deployment for
// ref and its latest status is success.
func (h *harness) deployedOK(account, name, ref string) bool {
	n, ok := 0, false
	for _, d := range h.gh.Deployments(account, name) {
		if d.Ref == ref {
			n++
			ok = latest(d) == "success"
		}
	}
	return n == 1 && ok
}

// openInConfigured is openIn for a repository whose configuration is cfg.
func (h *harness) openInConfigured(inst int64, account, name string, n int, cfg string) string {
	h.t.Helper()
	h.gh.SetFile(account, name, "main", cfgPath, cfg)
	return h.openIn(inst, account, name, n)
}
