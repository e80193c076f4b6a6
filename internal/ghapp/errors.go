package ghapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/cenkalti/backoff/v4"
	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/clock"
)

// Classes of permanent failure, for errors.Is. Retrying them cannot help.
var (
	// ErrJWTRejected means GitHub answered 401 to the App's JWT: the App
	// ID does not exist or the private key is not one of the App's.
	ErrJWTRejected = errors.New("GitHub refused the App's JWT: check GITHUB_APP_ID and the private key")
	// ErrInstallationNotFound means the installation does not exist (the
	// App was uninstalled) or belongs to another App.
	ErrInstallationNotFound = errors.New("the installation does not exist or belongs to another App")
	// ErrRepoNotInstalled means a token was asked for a repository the
	// installation does not cover.
	ErrRepoNotInstalled = errors.New("the repository is not part of the installation")
	// ErrPermissionNotGranted means the installation lacks a permission a
	// narrowed token asked for.
	ErrPermissionNotGranted = errors.New("the installation has not granted the permission the token asks for")
)

// Error is a failure GitHub answered. It carries GitHub's message (never a
// request body, a token or the key).
type Error struct {
	Op      string // what was being done, e.g. "minting a token for installation 42"
	Status  int    // HTTP status
	Message string // GitHub's message, or the status text when the body had none
	kind    error  // one of the Err… classes, or nil for a transient failure
}

// Error says what failed, the class of a permanent failure and GitHub's answer.
func (e *Error) Error() string {
	if e.kind != nil {
		return fmt.Sprintf("%s: %v (HTTP %d: %s)", e.Op, e.kind, e.Status, e.Message)
	}
	return fmt.Sprintf("%s: HTTP %d: %s", e.Op, e.Status, e.Message)
}

// Unwrap returns the class of the failure, if permanent.
func (e *Error) Unwrap() error { return e.kind }

// Temporary reports whether retrying later may succeed.
func (e *Error) Temporary() bool { return e.kind == nil }

// maxMessage keeps a hostile or broken server from filling an error.
const maxMessage = 300

// classifyMintError turns what ghinstallation's Token returns into an
// *Error, wrapped in backoff.Permanent when retrying cannot help.
func classifyMintError(ctx context.Context, err error, id int64) error {
	op := fmt.Sprintf("minting a token for installation %d", id)
	if cerr := ctx.Err(); cerr != nil {
		return backoff.Permanent(fmt.Errorf("%s: %w", op, cerr))
	}
	var he *ghinstallation.HTTPError
	if !errors.As(err, &he) {
		// A 2xx whose body did not decode: worth another try.
		return fmt.Errorf("%s: unreadable answer from GitHub", op)
	}
	if he.Response == nil {
		// The cause is a network error; it names the URL, not the JWT.
		return fmt.Errorf("%s: %w", op, he.RootCause)
	}
	// ghinstallation leaves the body open on a non-2xx answer.
	defer he.Response.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(he.Response.Body, 64<<10))
	return classifyStatus(op, he.Response.StatusCode, he.Response.Header, messageOf(body, he.Response.StatusCode), nil)
}

// classifyAPIError does the same for an error from a go-github call.
func classifyAPIError(ctx context.Context, err error, op string) error {
	if cerr := ctx.Err(); cerr != nil {
		return backoff.Permanent(fmt.Errorf("%s: %w", op, cerr))
	}
	var (
		rl *github.RateLimitError
		ab *github.AbuseRateLimitError
		er *github.ErrorResponse
	)
	switch {
	case errors.As(err, &rl):
		return &Error{Op: op, Status: rl.Response.StatusCode, Message: clip(rl.Message)}
	case errors.As(err, &ab):
		return &Error{Op: op, Status: ab.Response.StatusCode, Message: clip(ab.Message)}
	case errors.As(err, &er) && er.Response != nil:
		msg := er.Message
		if msg == "" {
			msg = http.StatusText(er.Response.StatusCode)
		}
		return classifyStatus(op, er.Response.StatusCode, er.Response.Header, clip(msg), er.Errors)
	}
	// Network errors: go-github has already stripped any token from the
	// URL it quotes.
	return fmt.Errorf("%s: %w", op, err)
}

// classifyStatus decides whether a GitHub answer is worth retrying.
func classifyStatus(op string, status int, h http.Header, msg string, fields []github.Error) error {
	e := &Error{Op: op, Status: status, Message: msg}
	switch {
	case status >= 500, status == http.StatusTooManyRequests:
		return e
	case status == http.StatusForbidden && (h.Get("Retry-After") != "" || h.Get("X-RateLimit-Remaining") == "0" ||
		strings.Contains(strings.ToLower(msg), "rate limit")):
		return e
	case status == http.StatusUnauthorized:
		e.kind = ErrJWTRejected
	case status == http.StatusNotFound:
		e.kind = ErrInstallationNotFound
	case status == http.StatusUnprocessableEntity && mentionsRepositories(fields, msg):
		e.kind = ErrRepoNotInstalled
	case status == http.StatusUnprocessableEntity && strings.Contains(msg, "permission"):
		e.kind = ErrPermissionNotGranted
	default:
		// Other refusals (a suspended installation's 403, a 422) will not
		// change on their own.
		e.kind = errors.New("GitHub refused the request")
	}
	return backoff.Permanent(e)
}

func mentionsRepositories(fields []github.Error, msg string) bool {
	return strings.Contains(strings.ToLower(msg), "repositor") ||
		slices.ContainsFunc(fields, func(f github.Error) bool { return f.Field == "repositories" || f.Resource == "Repository" })
}

// messageOf extracts GitHub's {"message": …} from an error body, falling
// back on the status text (GitHub's front end answers HTML on a 502).
func messageOf(body []byte, status int) string {
	var v struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &v) == nil && v.Message != "" {
		return clip(v.Message)
	}
	return http.StatusText(status)
}

func clip(s string) string {
	if len(s) > maxMessage {
		return s[:maxMessage] + "…"
	}
	return s
}

// retry runs op until it succeeds or fails permanently (an error wrapped
// in backoff.Permanent, returned unwrapped), waiting between attempts as
// the App's backoff says until it stops or ctx ends.
func (a *App) retry(ctx context.Context, op func() error) error {
	b := a.newBackOff()
	b.Reset()
	for attempt := 1; ; attempt++ {
		err := op()
		var permanent *backoff.PermanentError
		if errors.As(err, &permanent) {
			return permanent.Err
		}
		if err == nil {
			return nil
		}
		wait := b.NextBackOff()
		if wait == backoff.Stop && ctx.Err() == nil {
			if attempt > 1 {
				return fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
			}
			return err
		}
		if serr := clock.Sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%w (%d attempts, the last: %v)", serr, attempt, err)
		}
	}
}

// callAPI makes a go-github call with the App's retries.
func callAPI[T any](ctx context.Context, a *App, op string, call func() (T, *github.Response, error)) (T, error) {
	var out T
	err := a.retry(ctx, func() error {
		v, _, err := call()
		if err != nil {
			return classifyAPIError(ctx, err, op)
		}
		out = v
		return nil
	})
	return out, err
}
