package ghapp

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/google/go-github/v60/github"
	"github.com/prometheus/client_golang/prometheus"
)

// Middleware wraps the transport of installation id's client, as
// go-githubapp's ClientMiddleware does: what every GitHub call shares
// (rate-limit bookkeeping, metrics) is added once, here.
type Middleware func(id int64, next http.RoundTripper) http.RoundTripper

// WithMiddleware adds middleware to every installation client, the first
// outermost (it sees the request first and the answer last).
func WithMiddleware(mw ...Middleware) Option {
	return func(a *App) { a.middleware = append(a.middleware, mw...) }
}

// chain builds installation in's transport: the caller's middleware, then
// one that gets a valid token (with retries) and drops the cached
// installation on a 401 (which ghinstallation would otherwise keep
// answering with the same token until it expires), then ghinstallation,
// which signs the request.
func (a *App) chain(in *installation) http.RoundTripper {
	var rt http.RoundTripper = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if err := a.ensureToken(req.Context(), in); err != nil {
			// A RoundTripper must close the body even when it fails.
			if req.Body != nil {
				_ = req.Body.Close()
			}
			return nil, err
		}
		resp, err := in.it.RoundTrip(req)
		if err == nil && resp.StatusCode == http.StatusUnauthorized {
			a.drop(in)
		}
		return resp, err
	})
	for i := len(a.middleware) - 1; i >= 0; i-- {
		rt = a.middleware[i](in.id, rt)
	}
	return rt
}

// RateLimitRemaining is middleware that sets gauge, labelled by
// installation, to GitHub's X-RateLimit-Remaining of the core budget (the
// search and GraphQL budgets, X-RateLimit-Resource, are left out).
func RateLimitRemaining(gauge *prometheus.GaugeVec) Middleware {
	return func(id int64, next http.RoundTripper) http.RoundTripper {
		label := strconv.FormatInt(id, 10)
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			resp, err := next.RoundTrip(req)
			if err != nil {
				return resp, err
			}
			if res := resp.Header.Get("X-RateLimit-Resource"); res != "" && res != "core" {
				return resp, nil
			}
			if n, perr := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining")); perr == nil {
				gauge.WithLabelValues(label).Set(float64(n))
			}
			return resp, nil
		})
	}
}

// rateLimitAnswers is the one place go-github v60's rate-limit quirks are
// handled. go-github remembers a rate-limit answer in the client and then
// refuses requests itself until the reset, timed on the wall clock, so a
// caller that waited on its own clock, or one client shared by every pass,
// would be refused without asking GitHub. A rate-limit answer therefore
// comes back as a transport error carrying go-github's own error (see
// RateLimitAnswer), which callers classify with errors.As as before and
// which go-github does not remember.
func rateLimitAnswers(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		if err != nil {
			return resp, err
		}
		if rl := RateLimitAnswer(resp); rl != nil {
			return nil, rl
		}
		return resp, nil
	})
}

// RateLimitAnswer returns go-github's error for a GitHub rate-limit answer
// (*github.RateLimitError or *github.AbuseRateLimitError), and nil for any
// other answer, whose body it leaves unread. A 429, which go-github v60
// leaves a plain *github.ErrorResponse, is an *github.AbuseRateLimitError:
// GitHub's docs on secondary rate limits say they answer "403 or 429".
func RateLimitAnswer(resp *http.Response) error {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return nil
	}
	// The error body is small; a copy is put back for the next reader.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	gerr := github.CheckResponse(resp)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var (
		primary *github.RateLimitError
		abuse   *github.AbuseRateLimitError
		plain   *github.ErrorResponse
	)
	switch {
	case errors.As(gerr, &primary), errors.As(gerr, &abuse):
		return gerr
	case resp.StatusCode == http.StatusTooManyRequests && errors.As(gerr, &plain):
		return &github.AbuseRateLimitError{Response: resp, Message: plain.Message}
	}
	return nil
}

// TokenClient returns a client that authenticates with token (the Action's
// GITHUB_TOKEN) at the API root apiURL (see APIRoots), over hc, handling
// rate-limit answers as the App's clients do.
func TokenClient(hc *http.Client, apiURL, token string) (*github.Client, error) {
	base, upload, err := APIRoots(apiURL)
	if err != nil {
		return nil, err
	}
	c := *hc
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = rateLimitAnswers(next)
	gh := github.NewClient(&c).WithAuthToken(token)
	gh.BaseURL, gh.UploadURL = base, upload
	return gh, nil
}

// roundTripFunc is a function as an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

// RoundTrip implements http.RoundTripper.
func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
