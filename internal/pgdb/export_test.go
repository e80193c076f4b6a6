package pgdb

import "time"

// WithConnectTimeout bounds each connection attempt when the server URI
// sets no connect_timeout of its own; tests shorten it to fail fast.
func WithConnectTimeout(d time.Duration) Option {
	return func(m *Manager) { m.connectTimeout = d }
}
