package reconcile

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/ghapp"
	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/jobs"
	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
)

const (
	appID   = 3131
	instID  = 42
	owner   = "acme"
	repo    = "shop"
	simPAT  = "hcpat-reconcile-tests"
	bot     = "hasura-preview[bot]"
	prefix  = "HP_SECRET_"
	cfgPath = ".github/hasura-preview.yml"
)

// repoScope is where acme/shop's secrets live under the default scope.
var repoScope = prefix + "ACME__SHOP_" + strings.ToUpper(preview.RepoHash(owner, repo)) + "__"

// baseConfig is the repository's configuration unless a test sets another.
// It names apps without the repository hash of the service's default, so
// tests can name them.
const baseConfig = `directory: hasura
name: "{repo}-pr-{pr}"
env:
  HASURA_GRAPHQL_ENABLE_CONSOLE: "true"
secrets:
  HASURA_GRAPHQL_ADMIN_SECRET: ADMIN
`

var (
	keyOnce sync.Once
	appKey  *rsa.PrivateKey
)

// key generates the App's RSA key once per test binary: it is the slowest
// part of the setup.
func key() *rsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		if appKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return appKey
}

// harness is the reconciler against real loopback simulators: cloudsim on
// a manual clock, ghsim with the App installed on acme/shop, and a SQLite
// Store in t.TempDir(). Tests play the intake by writing desired state to
// the Store, then drive Reconcile in a loop, moving the clock by each
// returned wait.
type harness struct {
	t     *testing.T
	ctx   context.Context
	clock *clock.Manual
	gh    *ghsim.Server
	cloud *cloudsim.Server
	st    *store.Store
	app   *ghapp.App
	// static is the GitHubApp when harnessOptions.tokenLimit is set.
	static *staticApp
	rec    *Reconciler
	sweep  *Sweeper
	queue  *fakeQueue
	prs    map[int]*store.PullRequest
	seq    time.Duration
	deps   Deps
	// newApp builds a process's GitHubApp with its middleware.
	newApp func(ghapp.Middleware) GitHubApp
	// env is the service's environment; setEnv changes it.
	envMu sync.Mutex
	env   map[string]string
}

// setEnv changes a variable of the service's environment, as an operator
// rotating a secret and restarting would.
func (h *harness) setEnv(k, v string) {
	h.envMu.Lock()
	defer h.envMu.Unlock()
	h.env[k] = v
}

type harnessOptions struct {
	settings func(*Settings)
	cloud    func(*cloudsim.Options)
	config   string // "" = baseConfig; "-" = no file
	// wrapCloud stands between the engine and the Cloud client.
	wrapCloud func(preview.CloudAPI) preview.CloudAPI
	// tokenLimit, when positive, replaces the App's minted installation
	// tokens by fixed ones with that hourly rate limit (ghsim counts it per
	// token and cannot be told the limit of a minted one), and puts ghsim on
	// the test's clock so that the limit resets when the clock passes the
	// hour. See staticApp.
	tokenLimit int
}

func newHarness(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	clock := clock.NewManual(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
	h := &harness{t: t, ctx: context.Background(), clock: clock, prs: map[int]*store.PullRequest{}}

	gopts := ghsim.Options{Prefix: "/api/v3/"}
	if o.tokenLimit > 0 {
		gopts.Now = clock.Now
	}
	gh, base := ghsim.NewTestServer(t, gopts)
	gh.AddApp(appID, &key().PublicKey)
	gh.AddInstallation(appID, instID, owner, []string{repo})
	gh.SetPermission(owner, repo, "alice", "write")
	gh.SetPermission(owner, repo, "bob", "read")
	switch o.config {
	case "":
		gh.SetFile(owner, repo, "main", cfgPath, baseConfig)
	case "-":
		gh.AddRepo(owner, repo)
	default:
		gh.SetFile(owner, repo, "main", cfgPath, o.config)
	}
	h.gh = gh
	zero := func() backoff.BackOff { return backoff.WithMaxRetries(&backoff.ZeroBackOff{}, 2) }
	app, err := ghapp.New(appID, key(), base, ghapp.WithBackOff(zero))
	if err != nil {
		t.Fatal(err)
	}
	h.app = app
	h.newApp = func(mw ghapp.Middleware) GitHubApp {
		app, err := ghapp.New(appID, key(), base, ghapp.WithBackOff(zero), ghapp.WithMiddleware(mw))
		if err != nil {
			t.Fatal(err)
		}
		return app
	}
	if o.tokenLimit > 0 {
		h.static = newStaticApp(t, gh, base)
		h.static.real = app
		h.static.add(instID, owner, o.tokenLimit)
		h.newApp = h.static.process
	}

	var cloudURL string
	h.cloud, cloudURL = cloudsim.NewTestServer(t, cloudsim.Options{PAT: simPAT, Clock: clock, Seed: 11,
		CreationDuration: 30 * time.Second, TaskDuration: 10 * time.Second}, o.cloud)
	client, err := cloud.New(simPAT, cloud.WithEndpoint(cloudURL),
		cloud.WithRetry(3, func() backoff.BackOff { return &backoff.ZeroBackOff{} }),
		cloud.WithSleep(func(ctx context.Context, d time.Duration) error { clock.Advance(d); return ctx.Err() }))
	if err != nil {
		t.Fatal(err)
	}
	poll := preview.DefaultPollPolicy()
	poll.Jitter = -1
	var api preview.CloudAPI = client
	if o.wrapCloud != nil {
		api = o.wrapCloud(client)
	}
	engine := &preview.Engine{Cloud: api, Now: clock.Now, Poll: poll}

	h.st = storetest.SQLite(t, store.Options{Now: clock.Now})
	set := Settings{SecretEnvPrefix: prefix}
	if o.settings != nil {
		o.settings(&set)
	}
	// Secrets are scoped by repository by default: acme/shop's ADMIN; the
	// account-wide ADMIN (SECRET_SCOPE=owner) and another account's.
	h.env = map[string]string{
		repoScope + "ADMIN":         "s3cret-admin",
		prefix + "ACME__ADMIN":      "s3cret-admin",
		prefix + "OTHER_ORG__ADMIN": "not-acme-s",
	}
	getenv := func(k string) string {
		h.envMu.Lock()
		defer h.envMu.Unlock()
		return h.env[k]
	}
	h.deps = Deps{
		Store: h.st, Engine: engine, Settings: set,
		Getenv: getenv, Logger: quiet(), Now: clock.Now,
		Footer: "hasura-preview test",
		// Half the spread: deterministic, and still after the reset.
		Jitter: func(n time.Duration) time.Duration { return n / 2 },
		ReporterOptions: []ghreport.Option{
			ghreport.WithSleep(func(ctx context.Context, d time.Duration) error { return ctx.Err() }),
			ghreport.WithBackOff(zero),
		},
	}
	h.restart()
	h.queue = &fakeQueue{}
	h.sweep = NewSweeper(h.rec, SweepOptions{})
	return h
}

// restart replaces the Reconciler by a fresh one on the same Store, as a
// new process would start: nothing survives but what was saved.
func (h *harness) restart() {
	h.t.Helper()
	h.rec = h.process()
}

// process is what one service process holds: its own GitHub rate-limit
// budgets, the App's installation clients with them as middleware, and a
// Reconciler over both.
func (h *harness) process() *Reconciler {
	h.t.Helper()
	deps := h.deps
	deps.Budgets = NewBudgets(deps.Store, deps.Logger, deps.Now)
	deps.GitHub = h.newApp(deps.Budgets.Middleware)
	rec, err := New(deps)
	if err != nil {
		h.t.Fatal(err)
	}
	return rec
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// open makes PR n on GitHub and records its "opened" delivery.
func (h *harness) open(n int, edit func(*ghsim.PullSpec)) string {
	h.t.Helper()
	spec := ghsim.PullSpec{Number: n, HeadRef: "feature-" + itoa(n), HeadSHA: sha(n, 1)}
	if edit != nil {
		edit(&spec)
	}
	h.gh.AddPull(owner, repo, spec)
	pr := &store.PullRequest{
		Key: store.PRKey(owner, repo, n), InstallationID: instID, BaseOwner: owner, BaseRepo: repo, Number: n,
		HeadOwner: cmp.Or(spec.HeadOwner, owner), HeadRepo: cmp.Or(spec.HeadRepo, repo), Branch: spec.HeadRef,
		HeadSHA: spec.HeadSHA, BaseRef: "main", Title: "PR", Author: "alice", Draft: spec.Draft, Labels: spec.Labels,
	}
	h.prs[n] = pr
	h.record(pr, false)
	return pr.Key
}

// openBuilt opens PR n and reconciles it until it settles (built, with
// the harness's defaults).
func (h *harness) openBuilt(n int) string {
	h.t.Helper()
	key := h.open(n, nil)
	h.mustSettle(key)
	return key
}

// update changes PR n on GitHub and records the delivery that says so.
func (h *harness) update(n int, edit func(*store.PullRequest)) {
	h.t.Helper()
	pr := h.prs[n]
	wasClosed := pr.Closed
	edit(pr)
	h.gh.UpdatePull(owner, repo, n, func(s *ghsim.PullSpec) {
		s.HeadSHA, s.Draft, s.Labels = pr.HeadSHA, pr.Draft, pr.Labels
		s.State = "open"
		if pr.Closed {
			s.State = "closed"
		}
	})
	h.record(pr, wasClosed && !pr.Closed)
}

func (h *harness) record(pr *store.PullRequest, reopened bool) {
	h.t.Helper()
	h.seq += time.Second
	pr.EventUpdatedAt = h.clock.Now().Add(h.seq)
	err := h.st.WithTx(h.ctx, func(tx *store.Tx) error {
		_, err := tx.RecordPullRequest(h.ctx, pr, true, reopened)
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// command records a comment command as the intake does.
func (h *harness) command(n int, kind store.CommandKind, actor string, commentID int64) {
	h.t.Helper()
	pr := h.prs[n]
	err := h.st.WithTx(h.ctx, func(tx *store.Tx) error {
		return tx.RecordCommand(h.ctx, pr, store.Command{Kind: kind, Actor: actor, CommentID: commentID, At: h.clock.Now()})
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// settle calls Reconcile until it asks for nothing more, moving the clock
// by each wait, and returns the last error (nil when it settled).
func (h *harness) settle(key string) error {
	h.t.Helper()
	for range 400 {
		again, err := h.rec.Reconcile(h.ctx, key)
		if err != nil {
			return err
		}
		if again == 0 {
			return nil
		}
		h.clock.Advance(again)
	}
	h.t.Fatalf("%s did not settle", key)
	return nil
}

func (h *harness) mustSettle(key string) {
	h.t.Helper()
	if err := h.settle(key); err != nil {
		h.t.Fatalf("reconciling %s: %v", key, err)
	}
}

// steps calls Reconcile n times (or until it settles), moving the clock.
func (h *harness) steps(key string, n int) time.Duration {
	h.t.Helper()
	var again time.Duration
	for range n {
		var err error
		again, err = h.rec.Reconcile(h.ctx, key)
		if err != nil {
			h.t.Fatalf("reconciling %s: %v", key, err)
		}
		if again == 0 {
			return 0
		}
		h.clock.Advance(again)
	}
	return again
}

func (h *harness) preview(key string) *store.Preview {
	h.t.Helper()
	p, err := h.st.GetPreview(h.ctx, key)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// ourComments returns the bot's comments on PR n.
func (h *harness) ourComments(n int) []ghsim.Comment {
	var out []ghsim.Comment
	for _, c := range h.gh.Comments(owner, repo, n) {
		if c.User == bot {
			out = append(out, c)
		}
	}
	return out
}

// sticky returns the one sticky comment on PR n, failing unless exactly one
// exists.
func (h *harness) sticky(n int) string {
	h.t.Helper()
	var found []string
	for _, c := range h.ourComments(n) {
		if strings.HasPrefix(c.Body, ghreport.Marker) {
			found = append(found, c.Body)
		}
	}
	if len(found) != 1 {
		h.t.Fatalf("want one sticky comment on #%d, got %d: %q", n, len(found), found)
	}
	return found[0]
}

// creates counts createGitHubPreviewApp calls the simulator executed.
func (h *harness) creates() int { return h.cloud.Count(cloud.OpCreatePreviewApp) }

// createTokens returns the GitHub tokens handed to the Cloud, in order.
func (h *harness) createTokens() []string {
	var out []string
	for _, rec := range h.cloud.Log() {
		if len(rec.Ops) == 0 || rec.Ops[0] != cloud.OpCreatePreviewApp {
			continue
		}
		var vars struct {
			PAT string `json:"githubPAT"`
		}
		_ = json.Unmarshal(rec.Variables, &vars)
		out = append(out, vars.PAT)
	}
	return out
}

// fakeQueue records what the sweep enqueues.
type fakeQueue struct {
	mu       sync.Mutex
	keys     []string
	pending  []jobs.PendingJob
	forgot   []int64
	forgetFn func(id int64) error
}

func (q *fakeQueue) Enqueue(_ context.Context, key string) (jobs.Enqueued, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.keys = append(q.keys, key)
	return jobs.Enqueued{}, nil
}

func (q *fakeQueue) Pending(context.Context) ([]jobs.PendingJob, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]jobs.PendingJob(nil), q.pending...), nil
}

func (q *fakeQueue) ForgetInstallation(_ context.Context, id int64) error {
	q.mu.Lock()
	q.forgot = append(q.forgot, id)
	fn := q.forgetFn
	q.mu.Unlock()
	if fn != nil {
		return fn(id)
	}
	return nil
}

// take returns and clears what was enqueued.
func (q *fakeQueue) take() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.keys
	q.keys = nil
	return out
}

// isPermanent reports whether err was made by jobs.Permanent.
func isPermanent(err error) bool {
	return jobs.IsPermanent(err)
}

func sha(n, v int) string {
	return strings.Repeat(itoa(n%10), 20) + strings.Repeat(itoa(v%10), 20)
}

func itoa(n int) string { return strconv.Itoa(n) }

func ghsimPull(n int) ghsim.PullSpec {
	return ghsim.PullSpec{Number: n, HeadRef: "feature-" + itoa(n), HeadSHA: sha(n, 1)}
}

// sweepKeys runs one sweep and returns what it enqueued.
func (h *harness) sweepKeys() []string {
	h.t.Helper()
	if err := h.sweep.Sweep(h.ctx, h.queue); err != nil {
		h.t.Fatalf("sweep: %v", err)
	}
	return h.queue.take()
}

// wantSweep runs one sweep and fails unless it enqueued exactly keys, in
// any order; why names the step of the test.
func (h *harness) wantSweep(why string, keys ...string) {
	h.t.Helper()
	got := h.sweepKeys()
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(keys))) {
		h.t.Fatalf("sweep (%s) enqueued %q, want %q", why, got, keys)
	}
}

func pendingJob(key string) jobs.PendingJob { return jobs.PendingJob{PRKey: key, State: "scheduled"} }
