package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/riverqueue/river"

	"github.com/hasura-preview/hasura-preview/internal/config"
	"github.com/hasura-preview/hasura-preview/internal/jobs"
	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/sandbox"
)

// SandboxListenAddr is where sandbox mode listens unless LISTEN_ADDR says
// otherwise; when the port is taken it falls back to a free one.
const SandboxListenAddr = "127.0.0.1:8080"

// sandboxPoll reads the simulator's jobs often: its builds take seconds,
// and it has no quota to spare.
var sandboxPoll = preview.PollPolicy{Initial: 250 * time.Millisecond, Max: 2 * time.Second}

// sandboxRun is sandbox mode's state around one Run.
type sandboxRun struct {
	env    *sandbox.Env
	tmpDir string
	out    io.Writer
}

// startSandbox starts the simulators and points cfg and deps at them, with
// a throw-away database and 127.0.0.1:8080 unless the settings say otherwise.
func startSandbox(cfg *config.Config, deps *Deps) (sb *sandboxRun, err error) {
	key := cfg.PrivateKey()
	if key == nil {
		return nil, errors.New("sandbox: no App key (config.Load makes one in sandbox mode)")
	}
	env, err := sandbox.Start(sandbox.Options{AppID: cfg.GitHubAppID, PublicKey: &key.PublicKey, CloudToken: cfg.CloudToken})
	if err != nil {
		return nil, err
	}
	sb = &sandboxRun{env: env, out: deps.Stdout}
	defer func() {
		if err != nil {
			sb.close()
		}
	}()
	cfg.CloudEndpoint = env.CloudURL
	cfg.GitHubAPIURL = env.GitHubURL

	if cfg.DatabaseURL == config.DefaultDatabaseURL {
		// A fresh database per run leaves a production file untouched.
		if sb.tmpDir, err = os.MkdirTemp("", "hasura-preview-sandbox-"); err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		cfg.DatabaseURL = filepath.Join(sb.tmpDir, "hasura-preview-sandbox.db")
	}
	if deps.Listener == nil && cfg.ListenAddr == config.DefaultListenAddr {
		ln, lerr := net.Listen("tcp", SandboxListenAddr)
		if lerr != nil {
			fmt.Fprintf(deps.Stdout, "sandbox: %s is taken (%v); using a free port\n", SandboxListenAddr, lerr)
			if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
				return nil, fmt.Errorf("sandbox: listening on loopback: %w", err)
			}
		}
		deps.Listener = ln
	}
	if deps.Poll == (preview.PollPolicy{}) {
		deps.Poll = sandboxPoll
	}
	outer := deps.JobOptions
	deps.JobOptions = func(o *jobs.Options) {
		// SQLite has no LISTEN/NOTIFY: River finds new jobs by polling.
		o.Configure = func(c *river.Config) {
			c.FetchPollInterval = 100 * time.Millisecond
			c.FetchCooldown = 20 * time.Millisecond
		}
		if outer != nil {
			outer(o)
		}
	}
	fmt.Fprintf(deps.Stdout, "sandbox: Hasura Cloud simulator at %s\n", env.CloudURL)
	fmt.Fprintf(deps.Stdout, "sandbox: GitHub simulator at %s (App %d, %s/%s, PR #%d on branch %s)\n",
		env.GitHubURL, cfg.GitHubAppID, sandbox.Owner, sandbox.Repo, sandbox.PRNumber, sandbox.Branch)
	fmt.Fprintf(deps.Stdout, "sandbox: database %s\n", cfg.DatabaseURL)
	return sb, nil
}

// replay drives the lifecycle through the service's own /webhook once it
// serves, and reports on the channel when done.
func (sb *sandboxRun) replay(ctx context.Context, s *service) <-chan error {
	done := make(chan error, 1)
	fmt.Fprintf(sb.out, "sandbox: service listening at %s (dashboard %s/)\n", s.baseURL, s.baseURL)
	go func() {
		err := sb.env.Replay(ctx, sb.out, sandbox.Target{
			WebhookURL: s.baseURL + "/webhook",
			Secret:     []byte(s.active.cfg.WebhookSecret),
			AppID:      s.cfg.GitHubAppID,
			Idle: func(ctx context.Context) (bool, error) {
				pending, err := s.active.queue.Pending(ctx)
				return err == nil && len(pending) == 0, err
			},
		})
		switch {
		case ctx.Err() != nil:
			done <- err
			return
		case err != nil:
			fmt.Fprintf(sb.out, "\nsandbox: replay failed: %v\n", err)
		default:
			fmt.Fprintf(sb.out, "\nsandbox: replay done: the preview was created, rebuilt on the push and deleted on close.\n")
		}
		fmt.Fprintf(sb.out, "sandbox: dashboard: %s/\n", s.baseURL)
		if !s.deps.SandboxExit {
			fmt.Fprintf(sb.out, "sandbox: serving until Ctrl-C\n")
		}
		done <- err
	}()
	return done
}

func (sb *sandboxRun) close() {
	sb.env.Close()
	if sb.tmpDir != "" {
		_ = os.RemoveAll(sb.tmpDir)
	}
}
