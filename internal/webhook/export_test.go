package webhook

// Closing reports whether Close has begun.
func Closing(h *Handler) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}
