// Command hasura-preview-webhook is the GitHub App service that gives every
// pull request its own Hasura Cloud preview: -h lists every setting, and
// -sandbox runs it against built-in simulators. Exit codes: 0 after a clean
// shutdown, 2 for a usage or configuration error, 1 when the service failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hasura-preview/hasura-preview/internal/config"
	"github.com/hasura-preview/hasura-preview/internal/sandbox"
	"github.com/hasura-preview/hasura-preview/internal/service"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	args, sandboxExit, err := sandbox.SplitArgs(args, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "hasura-preview-webhook: %v\n", err)
		return 2
	}
	cfg, err := config.Load(args, getenv)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "hasura-preview-webhook: %v\nRun with -h for every setting.\n", err)
		return 2
	}
	err = service.Run(ctx, cfg, service.Deps{Stdout: stdout, Stderr: stderr, Getenv: getenv, SandboxExit: sandboxExit, Version: version})
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "hasura-preview-webhook: %v\n", err)
	var invalid *config.ValidationError
	if errors.As(err, &invalid) {
		return 2
	}
	return 1
}
