package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/hasura-preview/hasura-preview/deploy"
	"github.com/hasura-preview/hasura-preview/internal/appsetup"
	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/config"
	"github.com/hasura-preview/hasura-preview/internal/dashboard"
	"github.com/hasura-preview/hasura-preview/internal/ghapp"
	"github.com/hasura-preview/hasura-preview/internal/jobs"
	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/reconcile"
	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/webhook"
)

// An attempt longer than cloudTimeout is a hung connection; cloudTries
// bounds the retries inside one job step (the queue retries the job).
const (
	cloudTimeout = 15 * time.Second
	cloudTries   = 3
)

// service is the assembled process. In setup mode (no App credentials yet)
// POST /webhook answers 503 until activate starts the App's part.
type service struct {
	cfg      config.Config // as loaded; active.cfg adds stored credentials
	deps     Deps
	log      *slog.Logger
	st       *store.Store
	reg      *prometheus.Registry
	ghMW     []ghapp.Middleware // every installation client's, whichever App is active
	engine   *preview.Engine
	storage  appsetup.Storage // nil when the settings hold the App and the store has no place for one
	srv      *http.Server
	ln       net.Listener
	baseURL  string
	draining *atomic.Bool
	// webhook and home are POST /webhook and GET /, swapped by activate.
	webhook, home *swapHandler
	appID         atomic.Int64 // the App served, 0 in setup mode
	dashSrv       *http.Server // the dashboard and /setup alone on dashLn; nil without one
	dashLn        net.Listener

	mu       sync.Mutex
	active   *activeApp      // nil in setup mode
	runCtx   context.Context // set once run starts; activate then starts the queue
	stopping bool
}

// activeApp is what runs once the App's credentials are known.
type activeApp struct {
	cfg    config.Config
	queue  *jobs.Client
	intake *webhook.Handler
}

// build assembles every component and opens the listeners; nothing runs
// yet. On error everything opened so far is closed again.
func build(ctx context.Context, cfg config.Config, deps Deps, log *slog.Logger) (s *service, err error) {
	ln, err := listen(deps.Listener, cfg.ListenAddr, "LISTEN_ADDR")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = ln.Close()
		}
	}()
	dashLn, err := listen(deps.DashboardListener, cfg.DashboardListenAddr, "DASHBOARD_LISTEN_ADDR")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && dashLn != nil {
			_ = dashLn.Close()
		}
	}()

	st, err := store.Open(ctx, cfg.DatabaseURL, store.Options{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("opening the database (DATABASE_URL): %w", err)
	}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	log.Info("database ready", "database", st, "backend", st.Backend())

	reg, cm := newRegistry()
	cc, err := cloud.New(cfg.CloudToken,
		cloud.WithEndpoint(cfg.CloudEndpoint),
		// One bucket for every worker: the Cloud's limits are per account.
		cloud.WithLimiter(rate.NewLimiter(rate.Limit(cfg.CloudRateLimit), cfg.CloudRateBurst)),
		cloud.WithObserver(cm.observe),
		cloud.WithTimeout(cloudTimeout),
		cloud.WithRetry(cloudTries, nil),
		cloud.WithLogger(log.With("component", "cloud")),
	)
	if err != nil {
		return nil, err
	}
	engine := &preview.Engine{Cloud: cc, Deadline: cfg.PreviewDeadline, Poll: deps.Poll, Log: log.With("component", "engine")}

	s = &service{
		cfg: cfg, deps: deps, log: log, st: st, reg: reg, engine: engine,
		ghMW: []ghapp.Middleware{ghapp.RateLimitRemaining(cm.githubRemaining)}, ln: ln, baseURL: baseURL(ln),
		draining: new(atomic.Bool), webhook: newSwap(notSetUp), home: newSwap(http.RedirectHandler("/setup", http.StatusSeeOther)),
	}
	storage, storageErr := appsetup.StorageFor(st)
	s.storage = storage

	// Settings that name the whole App need nothing stored.
	appCfg, appErr := cfg.WithStoredApp(nil)
	var stored *appsetup.Credentials
	if appErr != nil {
		if stored, err = storage.Load(ctx); err != nil {
			return nil, err
		}
	}
	switch {
	case appErr == nil:
		err = s.activate(ctx, appCfg)
	case stored != nil:
		log.Info("GitHub App credentials loaded", "app", stored, "from", storage.String())
		err = s.activateStored(ctx, stored)
	case !cfg.AppUnset():
		return nil, appErr
	case storageErr != nil:
		return nil, fmt.Errorf("no GitHub App settings, and no place to store the App /setup would create: %w", storageErr)
	default:
		log.Warn("no GitHub App yet: setup mode; open /setup to create it", "setup", strings.TrimSuffix(cmp.Or(cfg.PublicURL, s.baseURL), "/")+"/setup")
	}
	if err != nil {
		return nil, err
	}

	setup, err := appsetup.NewHandler(appsetup.Options{
		Manifest: deploy.GitHubAppManifest, PublicURL: cfg.PublicURL, WebhookURL: cfg.WebhookURL(),
		WebURL: dashboard.WebURL(cfg.GitHubAPIURL), APIURL: cfg.GitHubAPIURL,
		States: appsetup.StatesFor(st, nil), Storage: storage,
		ActiveAppID: s.appID.Load, Activate: s.activateStored, Logger: log.With("component", "setup"),
	})
	if err != nil {
		return nil, err
	}
	guarded := func(ln net.Listener, h http.Handler) http.Handler {
		return guardDashboard(cfg.DashboardPassword, onLoopback(ln), h)
	}
	r := &routes{
		webhook: s.webhook, dashboard: guarded(ln, s.home), setup: guarded(ln, setup),
		registry: reg, db: st, log: log, draining: s.draining,
	}
	s.srv = newServer(r.mux(), log)
	if dashLn != nil {
		mux := http.NewServeMux()
		pages(mux, guarded(dashLn, s.home), guarded(dashLn, setup))
		s.dashSrv, s.dashLn = newServer(mux, log), dashLn
	}
	return s, nil
}

// activateStored starts the App that /setup just stored; the settings
// still win over what it stored.
func (s *service) activateStored(ctx context.Context, c *appsetup.Credentials) error {
	appCfg, err := s.cfg.WithStoredApp(&config.StoredApp{ID: c.AppID, PrivateKeyPEM: c.PrivateKeyPEM, WebhookSecret: c.WebhookSecret})
	if err != nil {
		return err
	}
	return s.activate(ctx, appCfg)
}

// activate builds the App's part of the service with appCfg (which holds
// every App credential) and swaps it in, once per process.
func (s *service) activate(ctx context.Context, appCfg config.Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.active != nil && s.active.cfg.GitHubAppID == appCfg.GitHubAppID:
		// The callback and the storage watch both found the new App.
		return nil
	case s.active != nil:
		return fmt.Errorf("the service already runs as GitHub App %d", s.active.cfg.GitHubAppID)
	case s.stopping:
		return errors.New("the service is shutting down")
	}
	log := s.log
	recLog := log.With("component", "reconcile")
	// The budgets count an answer before the gauge sees it.
	budgets := reconcile.NewBudgets(s.st, recLog, nil)
	app, err := ghapp.New(appCfg.GitHubAppID, appCfg.PrivateKey(), appCfg.GitHubAPIURL,
		ghapp.WithMiddleware(budgets.Middleware), ghapp.WithMiddleware(s.ghMW...))
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	// A wrong App ID or key shows up here, before any delivery is taken.
	bot, err := app.BotLogin(sctx)
	if err != nil {
		return fmt.Errorf("identifying the GitHub App (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY): %w", err)
	}
	log.Info("GitHub App identified", "app_id", appCfg.GitHubAppID, "bot", bot)

	// The reconciler wakes PRs through the queue, built after it.
	var queue *jobs.Client
	wake := func(ctx context.Context, prKey string) (jobs.Enqueued, error) {
		return queue.Enqueue(ctx, prKey)
	}
	rec, err := reconcile.New(reconcile.Deps{
		Store: s.st, GitHub: app, Engine: s.engine, Settings: reconcile.SettingsFrom(appCfg),
		Getenv: s.deps.Getenv, Logger: recLog, Budgets: budgets,
		Footer: footer(s.deps.Version), Wake: wake,
	})
	if err != nil {
		return err
	}
	sweeper := reconcile.NewSweeper(rec, reconcile.SweepOptions{})
	jopts := jobs.Options{Workers: appCfg.Workers, SweepEvery: appCfg.SweepInterval, Logger: log.With("component", "jobs")}
	if s.deps.JobOptions != nil {
		s.deps.JobOptions(&jopts)
	}
	queue, err = jobs.New(s.st, rec, func(ctx context.Context, q *jobs.Client) error { return sweeper.Sweep(ctx, q) }, jopts)
	if err != nil {
		return err
	}
	if err := queue.RegisterMetrics(s.reg); err != nil {
		return fmt.Errorf("registering job metrics: %w", err)
	}

	intake, err := webhook.New(webhook.Config{
		Secret: []byte(appCfg.WebhookSecret), Store: s.st, Queue: queue, BotLogin: bot,
		Registerer: s.reg, Logger: log.With("component", "intake"),
	})
	if err != nil {
		return err
	}
	title := "hasura-preview"
	if appCfg.Sandbox {
		title = "hasura-preview (sandbox)"
	}
	dopts := dashboard.Options{Previews: s.st, Deliveries: s.st, Queue: queue,
		WebURL: dashboard.WebURL(appCfg.GitHubAPIURL), Logger: log.With("component", "dashboard"), Title: title}
	describeApp(sctx, app, bot, s.st, &dopts)
	dash, err := dashboard.New(dopts)
	if err != nil {
		return err
	}
	if s.runCtx != nil {
		// The queue outlives the run's context, as in run.
		if err := queue.Start(context.WithoutCancel(s.runCtx)); err != nil {
			_ = intake.Close(ctx)
			return fmt.Errorf("starting the job queue: %w", err)
		}
	}
	s.active = &activeApp{cfg: appCfg, queue: queue, intake: intake}
	s.webhook.set(intake)
	s.home.set(dash)
	s.appID.Store(appCfg.GitHubAppID)
	return nil
}

// describeApp gives the dashboard the App's name and page (GET /app, read
// once with BotLogin; else the bot's login) and the installations.
func describeApp(ctx context.Context, app *ghapp.App, bot string, st *store.Store, o *dashboard.Options) {
	o.AppName = strings.TrimSuffix(bot, "[bot]")
	if a, err := app.Info(ctx); err == nil {
		o.AppName = cmp.Or(a.GetName(), o.AppName)
		o.AppURL = a.GetHTMLURL()
	}
	o.Installations = st
}

// notSetUp answers deliveries in setup mode: without an App there is no
// secret to check them against.
var notSetUp = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"outcome":"error","reason":"the service has no GitHub App yet: open /setup"}` + "\n"))
})

// swapHandler is a handler replaced once, while requests are served.
type swapHandler struct{ h atomic.Pointer[http.Handler] }

func newSwap(h http.Handler) *swapHandler {
	s := &swapHandler{}
	s.set(h)
	return s
}

func (s *swapHandler) set(h http.Handler) { s.h.Store(&h) }

// ServeHTTP implements http.Handler.
func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.h.Load()).ServeHTTP(w, r)
}

// footer is the last line of every PR comment.
func footer(version string) string {
	if version == "" {
		version = "dev"
	}
	return "hasura-preview " + version
}
