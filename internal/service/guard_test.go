package service

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestDashboardGuard(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	cases := []struct {
		name, password string
		loopback       bool // the listener is bound to loopback
		remote         string
		header         map[string]string
		user, pass     string
		want           int
	}{
		{"no password, loopback listener", "", true, "127.0.0.1:5555", nil, "", "", http.StatusTeapot},
		{"no password, loopback listener, v6", "", true, "[::1]:5555", nil, "", "", http.StatusTeapot},
		// A proxy, tunnel or sidecar on the host connects from loopback.
		{"no password, public listener, loopback peer", "", false, "127.0.0.1:5555", nil, "", "", http.StatusForbidden},
		{"no password, public listener, ::1 peer", "", false, "[::1]:5555", nil, "", "", http.StatusForbidden},
		{"no password, public listener, elsewhere", "", false, "203.0.113.7:5555", nil, "", "", http.StatusForbidden},
		{"no password, loopback listener, X-Forwarded-For", "", true, "127.0.0.1:5555", map[string]string{"X-Forwarded-For": "203.0.113.7"}, "", "", http.StatusForbidden},
		{"no password, loopback listener, Forwarded", "", true, "127.0.0.1:5555", map[string]string{"Forwarded": "for=203.0.113.7"}, "", "", http.StatusForbidden},
		{"no password, loopback listener, X-Real-IP", "", true, "127.0.0.1:5555", map[string]string{"X-Real-Ip": "203.0.113.7"}, "", "", http.StatusForbidden},
		{"no password, loopback listener, empty X-Forwarded-For", "", true, "127.0.0.1:5555", map[string]string{"X-Forwarded-For": ""}, "", "", http.StatusForbidden},
		{"password, none given", "s3cret-dash", false, "203.0.113.7:5555", nil, "", "", http.StatusUnauthorized},
		{"password, wrong", "s3cret-dash", false, "203.0.113.7:5555", nil, "admin", "s3cret-das", http.StatusUnauthorized},
		{"password, right, any user", "s3cret-dash", false, "203.0.113.7:5555", nil, "anyone", "s3cret-dash", http.StatusTeapot},
		{"password, right, through a proxy", "s3cret-dash", false, "127.0.0.1:5555", map[string]string{"X-Forwarded-For": "203.0.113.7"}, "x", "s3cret-dash", http.StatusTeapot},
		{"password, also asked on the loopback listener", "s3cret-dash", true, "127.0.0.1:5555", nil, "", "", http.StatusUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = c.remote
			for k, v := range c.header {
				req.Header[k] = []string{v}
			}
			if c.user != "" || c.pass != "" {
				req.SetBasicAuth(c.user, c.pass)
			}
			rec := httptest.NewRecorder()
			guardDashboard(c.password, c.loopback, ok).ServeHTTP(rec, req)
			if rec.Code != c.want {
				t.Fatalf("status %d, want %d", rec.Code, c.want)
			}
			if c.want == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}

func TestOnLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:0": true, "[::1]:0": true, ":0": false, "0.0.0.0:0": false} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Logf("%s: %v (skipped)", addr, err)
			continue
		}
		if got := onLoopback(ln); got != want {
			t.Errorf("%s (bound to %s): %v, want %v", addr, ln.Addr(), got, want)
		}
		ln.Close()
	}
}
