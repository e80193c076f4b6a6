// Command action is the hasura-preview GitHub Action (a Docker action; see
// action.yml). Everything is in internal/action; main maps errors to the
// exit status.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/hasura-preview/hasura-preview/internal/action"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := action.Run(ctx, action.Deps{Version: version})
	stop()
	if err != nil {
		// Already reported to the runner as an ::error:: command.
		os.Exit(1)
	}
}
