// Package service assembles and runs the webhook service: the store, the
// Cloud client, the engine, the GitHub App, the reconciler and its queue,
// the intake, metrics, the dashboard and the HTTP server that carries them.
// Without the App's credentials it starts in setup mode, where /setup
// creates the App; with cfg.Sandbox it runs against in-process simulators
// and replays a pull request's lifecycle through its own /webhook.
package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/config"
	"github.com/hasura-preview/hasura-preview/internal/jobs"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// Defaults of Deps.
const (
	// DefaultShutdownGrace is how long running jobs get to finish after
	// SIGTERM (Kubernetes' default termination grace is 30 s).
	DefaultShutdownGrace = 20 * time.Second
	httpShutdownTimeout  = 5 * time.Second  // intake requests take milliseconds
	startupTimeout       = 60 * time.Second // the calls made before serving (GET /app)
	// DefaultSetupPoll is how often setup mode looks for an App another replica created.
	DefaultSetupPoll = 10 * time.Second
)

// Deps are what Run takes besides the configuration; the zero value runs
// the production service.
type Deps struct {
	Stdout io.Writer    // the sandbox's replay [os.Stdout]
	Stderr io.Writer    // the log [os.Stderr]
	Logger *slog.Logger // replaces the one Run builds from cfg on Stderr
	// Getenv is where repository secrets are looked up [os.Getenv].
	Getenv func(string) string
	// Listener and DashboardListener, when set, are served instead of
	// listening on cfg.ListenAddr and cfg.DashboardListenAddr.
	Listener          net.Listener
	DashboardListener net.Listener
	// Ready is called with the server's base URL once it accepts requests.
	Ready func(baseURL string)
	// SandboxExit makes sandbox mode return after its replay.
	SandboxExit   bool
	ShutdownGrace time.Duration      // [DefaultShutdownGrace]
	Poll          preview.PollPolicy // paces the engine's reads of Cloud jobs
	// JobOptions, when set, adjusts the queue's options last.
	JobOptions func(*jobs.Options)
	Version    string        // shown at the foot of every PR comment
	SetupPoll  time.Duration // [DefaultSetupPoll]
}

func (d *Deps) defaults() {
	if d.Stdout == nil {
		d.Stdout = os.Stdout
	}
	if d.Stderr == nil {
		d.Stderr = os.Stderr
	}
	if d.Getenv == nil {
		d.Getenv = os.Getenv
	}
	if d.ShutdownGrace <= 0 {
		d.ShutdownGrace = DefaultShutdownGrace
	}
	if d.SetupPoll <= 0 {
		d.SetupPoll = DefaultSetupPoll
	}
}

// Run runs the service until ctx is done, then shuts down gracefully and
// returns nil. An invalid cfg returns its *config.ValidationError before
// anything starts; with Deps.SandboxExit, Run returns the replay's result.
func Run(ctx context.Context, cfg config.Config, deps Deps) error {
	deps.defaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	var sb *sandboxRun
	if cfg.Sandbox {
		var err error
		if sb, err = startSandbox(&cfg, &deps); err != nil {
			return err
		}
		defer sb.close()
	}
	log := deps.Logger
	if log == nil {
		log = newLogger(cfg, deps.Stderr)
	}
	log.Info("hasura-preview webhook service starting", "config", cfg)

	s, err := build(ctx, cfg, deps, log)
	if err != nil {
		return err
	}
	return s.run(ctx, sb)
}

// newLogger builds the configured logger; the sandbox, which tells its
// story on stdout, logs warnings and errors only unless LOG_LEVEL=debug.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	level := cfg.LogLevel
	if cfg.Sandbox && level == slog.LevelInfo {
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" || cfg.Sandbox {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// run serves until ctx ends (or the sandbox replay with SandboxExit), then
// shuts down HTTP, the jobs and the store, in that order.
func (s *service) run(ctx context.Context, sb *sandboxRun) error {
	defer s.st.Close()
	s.mu.Lock()
	s.runCtx = ctx
	active := s.active
	s.mu.Unlock()
	if active != nil {
		// The queue outlives ctx: its shutdown is Stop's graceful one below,
		// not the hard cancel River applies when Start's context ends.
		if err := active.queue.Start(context.WithoutCancel(ctx)); err != nil {
			_ = s.ln.Close()
			return fmt.Errorf("starting the job queue: %w", err)
		}
	} else {
		// Another replica may run /setup: its stored App is picked up here.
		go s.watchStored(ctx)
	}
	serveErr := make(chan error, 2)
	go func() { serveErr <- s.srv.Serve(s.ln) }()
	s.log.Info("listening", "url", s.baseURL)
	if s.dashSrv != nil {
		go func() { serveErr <- s.dashSrv.Serve(s.dashLn) }()
		s.log.Info("dashboard listening", "url", baseURL(s.dashLn)+"/")
	}
	if s.deps.Ready != nil {
		s.deps.Ready(s.baseURL)
	}

	var replayDone <-chan error
	if sb != nil {
		replayDone = sb.replay(ctx, s)
	}

	var runErr error
	for stop := false; !stop; {
		select {
		case <-ctx.Done():
			s.log.Info("shutting down", "cause", context.Cause(ctx))
			stop = true
		case err := <-serveErr:
			runErr = fmt.Errorf("HTTP server: %w", err)
			stop = true
		case err := <-replayDone:
			replayDone = nil
			if s.deps.SandboxExit {
				runErr, stop = err, true
			}
		}
	}
	s.shutdown(ctx)
	return runErr
}

func (s *service) shutdown(ctx context.Context) {
	s.draining.Store(true)
	s.mu.Lock()
	s.stopping = true
	active := s.active
	s.mu.Unlock()
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), httpShutdownTimeout)
	defer cancel()
	if s.dashSrv != nil {
		_ = s.dashSrv.Close() // a page view needs no grace
	}
	if err := s.srv.Shutdown(hctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.log.Warn("closing HTTP connections that did not finish in time", "error", err)
		_ = s.srv.Close()
	}
	// Deliveries still in flight are recorded before the queue and the
	// store go away, with a time of their own.
	if active == nil {
		s.log.Info("stopped")
		return
	}
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), httpShutdownTimeout)
	defer cancel()
	if err := active.intake.Close(ictx); err != nil {
		s.log.Warn("closing the intake", "error", err)
	}
	jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.deps.ShutdownGrace)
	defer cancel()
	if err := active.queue.Stop(jctx); err != nil {
		// Cancelled jobs snooze and resume on the next start: nothing is
		// lost, so this is not a failed run.
		s.log.Warn("jobs were cancelled at shutdown; they resume on the next start", "error", err)
	}
	s.log.Info("stopped")
}

// watchStored polls the credential storage in setup mode until another
// replica's /setup stores an App, and starts with it.
func (s *service) watchStored(ctx context.Context) {
	t := time.NewTicker(s.deps.SetupPoll)
	defer t.Stop()
	for s.appID.Load() == 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c, err := s.storage.Load(ctx)
		if err != nil {
			s.log.Warn("setup mode: reading the stored GitHub App failed", "error", err)
			continue
		}
		if c == nil || s.appID.Load() != 0 {
			continue
		}
		if err := s.activateStored(ctx, c); err != nil && s.appID.Load() == 0 {
			s.log.Error("setup mode: starting with the stored GitHub App failed", "app", c, "error", err)
			continue
		}
		s.log.Info("started with the GitHub App stored by another replica", "app", c)
	}
}

// listen returns the listener given, or one on addr (set by the variable
// setting) when addr is set.
func listen(given net.Listener, addr, setting string) (net.Listener, error) {
	if given != nil || addr == "" {
		return given, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s (%s): %w", addr, setting, err)
	}
	return ln, nil
}

// baseURL is how a browser on this machine reaches ln.
func baseURL(ln net.Listener) string {
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return "http://" + ln.Addr().String()
	}
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}
