package webhook

import "sync"

// HoldBatches makes every writer lane stop, once it has taken the first
// delivery of its next batch, until release is called; queued counts the
// deliveries handed in meanwhile (held or waiting in a lane). Deliveries
// handed in before release are therefore recorded together, in one batch
// per lane. release may be called again (say in t.Cleanup, so that a failed
// test does not leave requests hanging).
func HoldBatches(h *Handler) (queued func() int, release func()) {
	g := make(chan struct{})
	var once sync.Once
	h.w.gate.Store(&g)
	queued = func() int {
		n := int(h.w.held.Load())
		for _, l := range h.w.lanes {
			n += len(l.in)
		}
		return n
	}
	release = func() {
		once.Do(func() {
			h.w.gate.Store(nil)
			close(g)
		})
	}
	return queued, release
}

// Closing reports whether Close has begun.
func Closing(h *Handler) bool {
	h.w.mu.RLock()
	defer h.w.mu.RUnlock()
	return h.w.closed
}
