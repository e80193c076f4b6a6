package pgdb

import "time"

// NewWithConnectTimeout is New with a shorter default connect timeout, so
// that tests fail fast. The server URI must set no connect_timeout.
func NewWithConnectTimeout(cfg Config, d time.Duration) (*Manager, error) {
	m, err := New(cfg)
	if err == nil {
		m.conn.ConnectTimeout = d
	}
	return m, err
}

// ConnectTimeout is the bound New put on m's connection attempts.
func ConnectTimeout(m *Manager) time.Duration { return m.conn.ConnectTimeout }
