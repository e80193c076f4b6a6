package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

func TestReplySlots(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store.Store, c *clock.Manual) {
		ctx := context.Background()
		take := func(key, actor string) bool {
			t.Helper()
			ok, err := s.TakeReplySlot(ctx, key, actor, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !take("acme/shop#1", "mallory") {
			t.Fatal("the first reply was refused")
		}
		if take("acme/shop#1", "Mallory") {
			t.Fatal("a second reply within the hour (login in another case)")
		}
		if !take("acme/shop#1", "eve") || !take("acme/shop#2", "mallory") {
			t.Fatal("another user or another PR shares the slot")
		}
		c.Advance(59 * time.Minute)
		if take("acme/shop#1", "mallory") {
			t.Fatal("a reply after 59 minutes")
		}
		c.Advance(time.Minute)
		if !take("acme/shop#1", "mallory") {
			t.Fatal("no reply after an hour")
		}
		// Concurrent takers (replicas) get one slot between them.
		c.Advance(2 * time.Hour)
		var won atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if ok, err := s.TakeReplySlot(ctx, "acme/shop#1", "mallory", time.Hour); err == nil && ok {
					won.Add(1)
				}
			})
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("%d concurrent takers got the slot, want 1", won.Load())
		}
		// Pruning forgets only replies past the window.
		c.Advance(30 * time.Minute)
		if n, err := s.PruneReplySlots(ctx, time.Hour); err != nil || n != 2 {
			t.Fatalf("pruned %d, %v; want the 2 older replies", n, err)
		}
		if take("acme/shop#1", "mallory") {
			t.Fatal("pruning forgot a reply within the window")
		}
	})
}
