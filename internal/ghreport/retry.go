package ghreport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/clock"
)

// ErrNoPermission means the token may not touch comments or deployments of
// the repository (403 "Resource not accessible by integration", or 404).
// Callers warn and carry on: a preview does not fail for its comment.
var ErrNoPermission = errors.New("the GitHub token lacks permission")

// ErrRateLimited means GitHub asked for a longer wait than the Reporter
// takes, or kept refusing; the error is a *RateLimitError.
var ErrRateLimited = errors.New("GitHub rate limit")

// RateLimitError is a call that a GitHub rate limit stopped; Until is when
// GitHub will take requests again (on the Reporter's clock), for a caller
// that would rather come back then than hold a worker.
type RateLimitError struct {
	Op    string    // the operation that was stopped, if known
	Until time.Time // the earliest time worth trying again
	Err   error     // GitHub's answer, or what refused the request unsent; may be nil
}

func (e *RateLimitError) Error() string {
	msg := "GitHub rate limit until " + e.Until.UTC().Format(time.RFC3339)
	if e.Op != "" {
		msg = e.Op + ": " + msg
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is makes errors.Is(err, ErrRateLimited) hold.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Unwrap returns GitHub's answer.
func (e *RateLimitError) Unwrap() error { return e.Err }

// RateLimitUntil reports whether err is a GitHub rate-limit answer (as
// ghapp.RateLimitAnswer classifies them) or a *RateLimitError, and when to
// try again (see rateLimitWait).
func RateLimitUntil(err error, now time.Time) (time.Time, bool) {
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return rl.Until, true
	}
	if wait, ok := rateLimitWait(err, now); ok {
		return now.Add(wait), true
	}
	return time.Time{}, false
}

// noHeaderWait is GitHub's advice when a rate-limit answer says nothing of
// when to come back: wait at least a minute.
const noHeaderWait = 60 * time.Second

// maxRateLimitRetries bounds waits per API call; a limit that persists
// after this many is better reported than waited on forever.
const maxRateLimitRetries = 4

// apiCall is one GitHub request; it is repeated as is on retry.
type apiCall func(ctx context.Context, gh *github.Client) (*github.Response, error)

// call runs fn, waiting out rate limits as GitHub asks (without using up
// the backoff) and retrying 5xx answers and network errors with backoff.
// The caller holds r.mu.
func (r *Reporter) call(ctx context.Context, op string, fn apiCall) error {
	b := r.newBackOff()
	b.Reset()
	for limited := 0; ; {
		_, err := fn(ctx, r.gh)
		var known *RateLimitError
		wait, isLimit := rateLimitWait(err, r.now())
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return fmt.Errorf("%s: %w", op, ctx.Err())
		case errors.As(err, &known):
			// Refused before it was sent, by a transport that knows the
			// limit is spent: waiting here would only hold the caller.
			return &RateLimitError{Op: op, Until: known.Until, Err: err}
		case isLimit:
			if limited++; limited > maxRateLimitRetries || wait > r.maxWait {
				return &RateLimitError{Op: op, Until: r.now().Add(wait), Err: err}
			}
		case transient(err):
			if wait = b.NextBackOff(); wait == backoff.Stop {
				return fmt.Errorf("%s: %w", op, err)
			}
		case IsNoPermission(err):
			return fmt.Errorf("%s: %w: %w", op, ErrNoPermission, err)
		default:
			return fmt.Errorf("%s: %w", op, err)
		}
		r.log.Warn("GitHub API error, retrying", "op", op, "wait", wait, "error", err)
		if err := r.sleep(ctx, wait); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
}

// rateLimitWait reports whether err is a rate-limit answer and how long to
// wait before trying again: Retry-After if given, else until the reset the
// answer names, else go-github's own estimate (what a request refused on
// the client side carries), else a minute, and never less than a second.
func rateLimitWait(err error, now time.Time) (time.Duration, bool) {
	var (
		primary  *github.RateLimitError
		abuse    *github.AbuseRateLimitError
		resp     *http.Response
		fallback = noHeaderWait
	)
	switch {
	case errors.As(err, &primary):
		resp = primary.Response
		if reset := primary.Rate.Reset.Time; !reset.IsZero() {
			fallback = reset.Sub(now)
		}
	case errors.As(err, &abuse):
		resp = abuse.Response
		if abuse.RetryAfter != nil {
			fallback = *abuse.RetryAfter
		}
	default:
		return 0, false
	}
	wait, ok := headerWait(resp, now)
	if !ok {
		wait = fallback
	}
	return max(wait, time.Second), true
}

// headerWait reads Retry-After, else X-RateLimit-Reset when none is left.
func headerWait(resp *http.Response, now time.Time) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	if wait, ok := clock.RetryAfter(resp.Header.Get("Retry-After"), now); ok {
		return wait, true
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if s, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil && s > 0 {
			return time.Unix(s, 0).Sub(now), true
		}
	}
	return 0, false
}

// transient reports a 5xx answer or a failure to get any answer.
func transient(err error) bool {
	var er *github.ErrorResponse
	if errors.As(err, &er) {
		return status(err) >= 500
	}
	// No answer at all (connection refused or reset, a timeout) or one cut
	// short: worth another try.
	var ue *url.Error
	return errors.As(err, &ue) || errors.Is(err, io.ErrUnexpectedEOF)
}

// status is the HTTP status of GitHub's error answer err, or 0.
func status(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

// IsNoPermission reports ErrNoPermission, or an answer of GitHub's that
// says a token does not reach a resource (a 403 "Resource not accessible
// by …" or a 404), for callers that make their own GitHub calls.
func IsNoPermission(err error) bool {
	var er *github.ErrorResponse
	switch {
	case errors.Is(err, ErrNoPermission), status(err) == http.StatusNotFound:
		return true
	case status(err) == http.StatusForbidden:
		return errors.As(err, &er) && strings.Contains(er.Message, "Resource not accessible")
	}
	return false
}

// IsNotFound reports a 404 answer.
func IsNotFound(err error) bool { return status(err) == http.StatusNotFound }
