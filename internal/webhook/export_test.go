package webhook

// Closing reports whether Close has begun.
func Closing(h *Handler) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// BytesInFlight is the body bytes the handler holds reserved.
func BytesInFlight(h *Handler) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held
}
