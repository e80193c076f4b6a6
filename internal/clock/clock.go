// Package clock holds the module's one way to wait — a sleep that ends
// early when its context does — and its one fake clock. Packages take a
// sleep function and a time source as parameters; Sleep and time.Now are the
// real ones they default to, Manual is what tests and simulators pass.
package clock

import (
	"context"
	"sync"
	"time"
)

// Sleep waits for d or until ctx is done, whichever comes first, and
// returns ctx's error in the second case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Manual is a clock that moves only when told to, for tests and simulators
// that own time. It is safe for concurrent use, so a test can advance it
// while other goroutines read it.
type Manual struct {
	mu  sync.Mutex
	now time.Time
}

// NewManual returns a Manual clock that reads t until moved.
func NewManual(t time.Time) *Manual { return &Manual{now: t} }

// Now returns the clock's current time.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Manual) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Sleep is the sleep a test or a simulation passes where Sleep would wait:
// it moves the clock by d at once instead, unless ctx is done.
func (c *Manual) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}
