package service

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
)

// guardDashboard keeps the dashboard from whoever can reach the webhook:
// with a password it asks for HTTP Basic auth (any user name); without one
// it serves only on a loopback listener, and refuses requests a proxy says
// it forwarded (a proxy on the same host connects from 127.0.0.1 for anyone).
func guardDashboard(password string, onLoopback bool, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(password))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if password == "" {
			switch {
			case !onLoopback:
				plain(w, http.StatusForbidden, "the dashboard needs DASHBOARD_PASSWORD here; without one it is served only on DASHBOARD_LISTEN_ADDR, a loopback address")
				return
			case forwarded(r):
				plain(w, http.StatusForbidden, "the dashboard refuses proxied requests (Forwarded, X-Forwarded-For, X-Real-IP) unless DASHBOARD_PASSWORD is set")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		_, given, ok := r.BasicAuth()
		got := sha256.Sum256([]byte(given))
		// Equal-length hashes leak neither the password nor its length.
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="hasura-preview", charset="UTF-8"`)
			plain(w, http.StatusUnauthorized, "password required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// forwarded reports whether a proxy says it passed the request on
// (RFC 7239's Forwarded, or the de facto X-Forwarded-For and X-Real-IP).
func forwarded(r *http.Request) bool {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Real-IP"} {
		if _, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
			return true
		}
	}
	return false
}

// onLoopback reports whether ln is bound to a loopback address, so that
// only this machine can connect to it.
func onLoopback(ln net.Listener) bool {
	addr, ok := ln.Addr().(*net.TCPAddr)
	return ok && addr.IP.IsLoopback()
}
