package service

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
)

// guardDashboard keeps the dashboard — repositories, PR titles, branches and
// endpoints, private ones included — from whoever can reach the webhook,
// which must face the internet. With a password it asks for HTTP Basic auth
// (any user name); without one it answers loopback clients only (the
// sandbox, kubectl port-forward).
func guardDashboard(password string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(password))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if password == "" {
			if !fromLoopback(r) {
				plain(w, http.StatusForbidden, "the dashboard answers loopback clients only; set DASHBOARD_PASSWORD to open it")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		_, given, ok := r.BasicAuth()
		got := sha256.Sum256([]byte(given))
		// Hashes of equal length: the comparison leaks neither the
		// password nor its length.
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="hasura-preview", charset="UTF-8"`)
			plain(w, http.StatusUnauthorized, "password required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
