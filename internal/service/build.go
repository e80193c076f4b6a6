package service

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

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

// Cloud client settings: an attempt that takes longer than cloudTimeout is
// a hung connection, and cloudTries bounds the retries inside one job step
// (the job itself is retried by the queue with a longer backoff).
const (
	cloudTimeout = 15 * time.Second
	cloudTries   = 3
)

// service is the assembled process.
type service struct {
	cfg      config.Config
	deps     Deps
	log      *slog.Logger
	st       *store.Store
	queue    *jobs.Client
	intake   *webhook.Handler
	srv      *http.Server
	ln       net.Listener
	baseURL  string
	draining *atomic.Bool
	// dashSrv serves the dashboard alone on dashLn (DASHBOARD_LISTEN_ADDR);
	// nil without one.
	dashSrv *http.Server
	dashLn  net.Listener
}

// build assembles every component and opens the listener; nothing runs
// yet. On error everything opened so far is closed again.
func build(ctx context.Context, cfg config.Config, deps Deps, log *slog.Logger) (s *service, err error) {
	ln, err := listen(cfg, deps)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = ln.Close()
		}
	}()
	dashLn, err := listenDashboard(cfg, deps)
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

	reg, cm, err := newRegistry()
	if err != nil {
		return nil, fmt.Errorf("registering metrics: %w", err)
	}
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

	app, err := ghapp.New(cfg.GitHubAppID, cfg.PrivateKey(), cfg.GitHubAPIURL)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	// The bot login tells our own comments from users' (commands); a
	// wrong App ID or key shows up here, before any delivery is taken.
	bot, err := app.BotLogin(sctx)
	if err != nil {
		return nil, fmt.Errorf("identifying the GitHub App (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY): %w", err)
	}
	log.Info("GitHub App identified", "app_id", cfg.GitHubAppID, "bot", bot)

	rec, err := reconcile.New(reconcile.Deps{
		Store: st, GitHub: app, Engine: engine, Settings: reconcile.SettingsFrom(cfg),
		Getenv: deps.Getenv, Logger: log.With("component", "reconcile"),
		Footer: footer(deps.Version),
	})
	if err != nil {
		return nil, err
	}
	sweeper := reconcile.NewSweeper(rec, reconcile.SweepOptions{})
	jopts := jobs.Options{Workers: cfg.Workers, SweepEvery: cfg.SweepInterval, Logger: log.With("component", "jobs")}
	if deps.JobOptions != nil {
		deps.JobOptions(&jopts)
	}
	queue, err := jobs.New(st, rec, sweeper, jopts)
	if err != nil {
		return nil, err
	}
	// The sweep enqueues into the queue that runs it: wired after both exist.
	sweeper.SetQueue(queue)
	if err := queue.RegisterMetrics(reg); err != nil {
		return nil, fmt.Errorf("registering job metrics: %w", err)
	}

	intake, err := webhook.New(webhook.Config{
		Secret: []byte(cfg.WebhookSecret), Store: st, Queue: queue, BotLogin: bot,
		Registerer: reg, Logger: log.With("component", "intake"),
	})
	if err != nil {
		return nil, err
	}
	title := "hasura-preview"
	if cfg.Sandbox {
		title = "hasura-preview (sandbox)"
	}
	dash, err := dashboard.New(dashboard.Options{Previews: st, Deliveries: st, Queue: queue,
		WebURL: dashboard.WebURL(cfg.GitHubAPIURL), Logger: log.With("component", "dashboard"), Title: title})
	if err != nil {
		return nil, err
	}

	draining := new(atomic.Bool)
	r := &routes{webhook: intake, dashboard: guardDashboard(cfg.DashboardPassword, onLoopback(ln), dash),
		registry: reg, db: st, log: log, draining: draining}
	s = &service{
		cfg: cfg, deps: deps, log: log, st: st, queue: queue, intake: intake,
		srv: newServer(r.mux(), log), ln: ln, baseURL: baseURL(ln), draining: draining,
	}
	if dashLn != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /{$}", guardDashboard(cfg.DashboardPassword, onLoopback(dashLn), dash))
		s.dashSrv, s.dashLn = newServer(mux, log), dashLn
	}
	return s, nil
}

// footer is the last line of every PR comment.
func footer(version string) string {
	if version == "" {
		version = "dev"
	}
	return "hasura-preview " + version
}
