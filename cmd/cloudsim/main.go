// Command cloudsim serves the Hasura Cloud API simulator on a local port,
// for dry runs of preview-app workflows (ours or the official action's)
// without a Cloud account:
//
//	HASURA_CLOUD_ACCESS_TOKEN=dev go run ./cmd/cloudsim -addr 127.0.0.1:8787
//
// then point a client at http://127.0.0.1:8787/v1/graphql with
// "Authorization: pat dev".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	var usage usageError
	switch {
	case err == nil:
	case errors.As(err, &usage):
		fmt.Fprintln(os.Stderr, "cloudsim:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "cloudsim:", err)
		os.Exit(1)
	}
}

// usageError is a problem with the command line, exit status 2.
type usageError struct{ error }

// failTasks collects repeated -fail-task values.
type failTasks []cloudsim.TaskFailure

func (f *failTasks) String() string { return fmt.Sprint(len(*f), " rules") }

// Set parses "[app/]task=error message".
func (f *failTasks) Set(v string) error {
	target, msg, ok := strings.Cut(v, "=")
	if !ok || msg == "" {
		return errors.New("want [app/]task=error")
	}
	app, task, hasApp := strings.Cut(target, "/")
	if !hasApp {
		app, task = "", target
	}
	if task == "" {
		return errors.New("want [app/]task=error")
	}
	*f = append(*f, cloudsim.TaskFailure{App: app, Task: task, Error: msg})
	return nil
}

// run serves until ctx ends, then shuts down gracefully. It takes the
// environment and output streams as parameters so tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cloudsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8787", "address to listen on (port 0 picks a free one)")
	pat := fs.String("pat", "", "personal access token clients must send as \"pat <token>\" (default $HASURA_CLOUD_ACCESS_TOKEN)")
	creation := fs.Duration("creation-duration", cloudsim.DefaultCreationDuration, "how long a preview app creation job runs")
	task := fs.Duration("task-duration", cloudsim.DefaultTaskDuration, "how long each deployment task runs")
	quota := fs.Int("quota", 0, "monthly createGitHubPreviewApp quota; 0 is unlimited, the free tier is 60")
	faultRate := fs.Float64("fault-rate", 0, "fraction of requests (0..1) answered with a random fault")
	faultSeed := fs.Int64("fault-seed", 1, "seed of the random faults")
	endpointForm := fs.String("endpoint-form", "origin", "what projects.endpoint holds: origin (https://<name>.hasura.app, as the real Cloud most likely answers) or graphql (…/v1/graphql)")
	firstRun := fs.Bool("first-run", false, "each new project's first build meets the first-run faults users report: projects_by_pk null once, the deployment job null twice, a failed first deployment with the 'please wait a few moments' text")
	var fails failTasks
	fs.Var(&fails, "fail-task", "make deployments fail: [app/]task=error (repeatable; no app means every app)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments: %q", fs.Args())}
	}
	token := *pat
	if token == "" {
		token = getenv("HASURA_CLOUD_ACCESS_TOKEN")
	}
	var problems []string
	if token == "" {
		problems = append(problems, "no access token: pass -pat or set HASURA_CLOUD_ACCESS_TOKEN")
	}
	if *creation <= 0 || *task <= 0 {
		problems = append(problems, "-creation-duration and -task-duration must be positive")
	}
	if *quota < 0 {
		problems = append(problems, "-quota must not be negative")
	}
	if *endpointForm != "origin" && *endpointForm != "graphql" {
		problems = append(problems, "-endpoint-form must be origin or graphql")
	}
	if *faultRate < 0 || *faultRate > 1 {
		problems = append(problems, "-fault-rate must be between 0 and 1")
	}
	if len(problems) > 0 {
		return usageError{errors.New(strings.Join(problems, "; "))}
	}

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	sim, err := cloudsim.New(cloudsim.Options{
		PAT:              token,
		CreationDuration: *creation,
		TaskDuration:     *task,
		MonthlyQuota:     *quota,
		FailTasks:        fails,
		EndpointWithPath: *endpointForm == "graphql",
		FirstRun:         *firstRun,
		OnRequest:        func(r cloudsim.Record) { logRequest(logger, r) },
	})
	if err != nil {
		return err
	}
	if *faultRate > 0 {
		sim.SetRandomFaults(*faultRate, *faultSeed)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "cloudsim listening on http://%s/v1/graphql\n", ln.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	logger.Info("cloudsim stopped")
	return nil
}

// logRequest writes one line per root field. It reads only fields that
// cannot hold secrets: never the variables, which carry GitHub tokens.
func logRequest(logger *slog.Logger, r cloudsim.Record) {
	ops := r.Ops
	if len(ops) == 0 {
		ops = []string{""}
	}
	for _, op := range ops {
		attrs := []any{"op", op, "status", r.Status, "duration", r.Duration}
		if r.ErrorCode != "" {
			attrs = append(attrs, "error_code", r.ErrorCode)
		}
		if r.Fault != "" {
			attrs = append(attrs, "fault", string(r.Fault))
		}
		logger.Info("graphql", attrs...)
	}
}
