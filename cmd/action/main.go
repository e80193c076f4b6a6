// Command action is the hasura-preview GitHub Action, the binary that
// action.yml's composite step downloads from a release and runs. Everything
// is in internal/action; main maps errors to the exit status.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/hasura-preview/hasura-preview/internal/action"
)

// version is set at build time with -ldflags "-X main.version=..." (the
// release workflow passes the tag).
var version = "dev"

func main() {
	// The runner passes no arguments; -version names the build.
	if len(os.Args) == 2 && (os.Args[1] == "-version" || os.Args[1] == "--version") {
		fmt.Println(version)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := action.Run(ctx, action.Deps{Version: version})
	stop()
	if err != nil {
		// Already reported to the runner as an ::error:: command.
		os.Exit(1)
	}
}
