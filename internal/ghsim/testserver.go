package ghsim

import (
	"net/http/httptest"
	"strings"
)

// TB is the part of testing.TB that NewTestServer needs; *testing.T and
// *testing.B satisfy it. Taking this instead of testing.TB keeps the
// testing package out of binaries that embed the simulator (sandbox mode).
type TB interface {
	Helper()
	Cleanup(func())
}

// NewTestServer starts a Server on a loopback httptest.Server, closed when
// the test ends, and returns it with the API base URL (including the
// prefix and a trailing slash), ready for go-github:
//
//	client, _ := github.NewClient(nil).WithAuthToken(tok).WithEnterpriseURLs(base, base)
//
// or client.BaseURL, _ = url.Parse(base).
func NewTestServer(tb TB, opts Options) (*Server, string) {
	tb.Helper()
	s := New(opts)
	hs := httptest.NewServer(s)
	tb.Cleanup(hs.Close)
	return s, strings.TrimSuffix(hs.URL, "/") + s.prefix
}
