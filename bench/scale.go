package main

import (
	"context"
	"errors"
	"io"
)

// runScale needs the webhook service (internal/service and the reconciler),
// which is not in the tree yet.
func runScale(ctx context.Context, cfg *config, out io.Writer) error {
	return errors.New("needs internal/service and internal/reconcile, not yet in the tree")
}
