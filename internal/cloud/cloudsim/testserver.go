package cloudsim

import "net/http/httptest"

// TB is the part of testing.TB that NewTestServer needs; *testing.T and
// *testing.B satisfy it. Taking this instead of testing.TB keeps the
// testing package out of binaries that embed the simulator (sandbox mode).
type TB interface {
	Helper()
	Cleanup(func())
	Fatal(args ...any)
}

// NewTestServer starts a Server with opts, changed by each non-nil mutate
// in turn, on a loopback httptest.Server closed when the test ends. It
// returns the Server and its GraphQL URL, ready for cloud.WithEndpoint.
func NewTestServer(tb TB, opts Options, mutate ...func(*Options)) (*Server, string) {
	tb.Helper()
	for _, m := range mutate {
		if m != nil {
			m(&opts)
		}
	}
	s, err := New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(s)
	tb.Cleanup(hs.Close)
	return s, hs.URL + s.opts.Path
}
