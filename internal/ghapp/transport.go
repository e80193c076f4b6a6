package ghapp

import "net/http"

// installationTransport gets a valid token (with retries) before handing
// the request to ghinstallation, and drops the cached installation when
// GitHub answers 401: the token was revoked or the clock is off, and
// ghinstallation would otherwise keep sending it until it expires.
type installationTransport struct {
	app *App
	in  *installation
}

// RoundTrip implements http.RoundTripper.
func (t *installationTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.app.ensureToken(req.Context(), t.in); err != nil {
		// A RoundTripper must close the body even when it fails.
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.in.it.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		t.app.drop(t.in)
	}
	return resp, err
}

// cloningTransport hands the next transport a copy of the request:
// ghinstallation's AppsTransport sets headers on the request it is given,
// which http.RoundTripper's contract forbids.
type cloningTransport struct {
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t cloningTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.next.RoundTrip(req.Clone(req.Context()))
}
