package service

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestDashboardGuard(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	cases := []struct {
		name, password, remote, user, pass string
		want                               int
	}{
		{"no password, loopback v4", "", "127.0.0.1:5555", "", "", http.StatusTeapot},
		{"no password, loopback v6", "", "[::1]:5555", "", "", http.StatusTeapot},
		{"no password, elsewhere", "", "203.0.113.7:5555", "", "", http.StatusForbidden},
		{"no password, private network", "", "10.0.0.4:5555", "", "", http.StatusForbidden},
		{"password, none given", "s3cret-dash", "203.0.113.7:5555", "", "", http.StatusUnauthorized},
		{"password, wrong", "s3cret-dash", "203.0.113.7:5555", "admin", "s3cret-das", http.StatusUnauthorized},
		{"password, right, any user", "s3cret-dash", "203.0.113.7:5555", "anyone", "s3cret-dash", http.StatusTeapot},
		{"password, also asked of loopback", "s3cret-dash", "127.0.0.1:5555", "", "", http.StatusUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = c.remote
			if c.user != "" || c.pass != "" {
				req.SetBasicAuth(c.user, c.pass)
			}
			rec := httptest.NewRecorder()
			guardDashboard(c.password, ok).ServeHTTP(rec, req)
			if rec.Code != c.want {
				t.Fatalf("status %d, want %d", rec.Code, c.want)
			}
			if c.want == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}
