// Package cloud is a typed client for the Hasura Cloud API (a Hasura
// GraphQL endpoint, by default https://data.pro.hasura.io/v1/graphql).
//
// Every call sends its values as GraphQL variables, never in the query text;
// carries the PAT as "Authorization: pat <token>"; and retries transient
// failures (5xx, 429 with Retry-After, network errors, answers that are not
// JSON) with backoff. Errors are *Error values classified by the Err*
// sentinels. The PAT appears in no error, log line or formatted Client.
package cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/machinebox/graphql"

	"github.com/hasura-preview/hasura-preview/internal/clock"
)

// DefaultEndpoint is the Hasura Cloud API.
const DefaultEndpoint = "https://data.pro.hasura.io/v1/graphql"

// Defaults for a Client's retry budget and request timeout.
const (
	defaultTimeout  = 30 * time.Second
	defaultMaxTries = 6
)

// MaxRetryAfter is the longest wait a Retry-After answer gets.
const MaxRetryAfter = 2 * time.Minute

// maxBody caps what is read of one answer, which is small unless broken.
const maxBody = 8 << 20

// Limiter paces calls; *rate.Limiter from golang.org/x/time/rate fits.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Observer hears about every HTTP attempt; err is nil or an *Error.
type Observer func(op string, d time.Duration, err error)

// Client calls the Hasura Cloud API. It is safe for concurrent use.
type Client struct {
	endpoint   string
	pat        string
	gql        *graphql.Client
	timeout    time.Duration
	maxTries   int
	newBackOff func() backoff.BackOff
	sleep      func(ctx context.Context, d time.Duration) error
	limiter    Limiter
	observe    Observer
	log        *slog.Logger
}

// Option configures a Client.
type Option func(*Client)

// WithEndpoint sets the API's URL (cloudsim, a proxy).
func WithEndpoint(endpoint string) Option { return func(c *Client) { c.endpoint = endpoint } }

// WithTimeout bounds each HTTP attempt.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithRetry sets the attempts per call (at least 1) and, if not nil, the
// backoff policy between them.
func WithRetry(maxTries int, newBackOff func() backoff.BackOff) Option {
	return func(c *Client) {
		c.maxTries = max(maxTries, 1)
		if newBackOff != nil {
			c.newBackOff = newBackOff
		}
	}
}

// WithSleep replaces the wait between attempts (tests record it instead).
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) { c.sleep = sleep }
}

// WithLimiter paces every attempt through l (one bucket shared by all
// workers keeps a fleet under the Cloud's rate limits).
func WithLimiter(l Limiter) Option { return func(c *Client) { c.limiter = l } }

// WithObserver reports every attempt to o (non-nil).
func WithObserver(o Observer) Option { return func(c *Client) { c.observe = o } }

// WithLogger logs each attempt at debug level and each retry at info.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// defaultBackOff is exponential from 1 s to 30 s with backoff's 50%
// jitter; the context and maxTries bound the loop, not the wall clock.
func defaultBackOff() backoff.BackOff {
	return backoff.NewExponentialBackOff(backoff.WithInitialInterval(time.Second),
		backoff.WithMaxInterval(30*time.Second), backoff.WithMaxElapsedTime(0))
}

// New returns a Client that authenticates with pat.
func New(pat string, opts ...Option) (*Client, error) {
	c := &Client{
		endpoint:   DefaultEndpoint,
		pat:        pat,
		timeout:    defaultTimeout,
		maxTries:   defaultMaxTries,
		newBackOff: defaultBackOff,
		observe:    func(string, time.Duration, error) {},
		sleep:      clock.Sleep,
		log:        slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(c)
	}
	if pat == "" {
		return nil, errors.New("hasura cloud: an access token (PAT) is required")
	}
	// A malformed endpoint would look like a network failure to run, and
	// be retried. The URL is not echoed: it may carry a proxy's credentials.
	if u, err := url.Parse(c.endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("hasura cloud: the endpoint is not an absolute http(s) URL")
	}
	// machinebox/graphql's Log would print the request headers, PAT
	// included: it is left at its no-op default on purpose.
	c.gql = graphql.NewClient(c.endpoint, graphql.WithHTTPClient(&http.Client{Transport: captureTransport{inner: http.DefaultTransport}}))
	return c, nil
}

// String keeps the PAT out of %v and %s.
func (c *Client) String() string {
	return fmt.Sprintf("cloud.Client{endpoint: %q, pat: [redacted]}", c.endpoint)
}

// GoString keeps the PAT out of %#v.
func (c *Client) GoString() string { return c.String() }

// LogValue keeps the PAT out of slog.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("endpoint", c.endpoint), slog.String("pat", "[redacted]"))
}

// run sends one operation, retrying transient failures, into out.
func (c *Client) run(ctx context.Context, op, query string, vars map[string]any, out any) error {
	b := c.newBackOff()
	b.Reset()
	for attempt := 1; ; attempt++ {
		err := c.attempt(ctx, op, query, vars, out)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrTransient) || ctx.Err() != nil || attempt >= c.maxTries {
			return err
		}
		wait := b.NextBackOff()
		if wait == backoff.Stop {
			return err
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < max(wait, err.RetryAfter) {
			return err // the answer would come too late to matter
		}
		if err.RetryAfter > wait {
			// Capped: an answer asking for hours must not hold the call
			// (and a run with no deadline) that long.
			wait = min(err.RetryAfter, MaxRetryAfter)
		}
		c.log.Info("retrying hasura cloud call", "op", op, "attempt", attempt, "wait", wait, "error", err)
		if serr := c.sleep(ctx, wait); serr != nil {
			return &Error{Op: op, Class: ErrTransient, Message: err.Message, Err: serr}
		}
	}
}

// attempt makes one HTTP round trip.
func (c *Client) attempt(ctx context.Context, op, query string, vars map[string]any, out any) *Error {
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return &Error{Op: op, Class: ErrTransient, Message: "waiting for the rate limiter", Err: err}
		}
	}
	start := time.Now()
	err := c.roundTrip(ctx, op, query, vars, out)
	d := time.Since(start)
	if err != nil {
		c.log.Debug("hasura cloud call failed", "op", op, "duration", d, "error", err)
		c.observe(op, d, err)
		return err
	}
	c.log.Debug("hasura cloud call", "op", op, "duration", d)
	c.observe(op, d, nil) // not err: a typed nil *Error is not a nil error
	return nil
}

func (c *Client) roundTrip(ctx context.Context, op, query string, vars map[string]any, out any) *Error {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	ex := &exchange{}
	actx = context.WithValue(actx, exchangeKey{}, ex)

	req := graphql.NewRequest(query)
	for k, v := range vars {
		req.Var(k, v)
	}
	req.Header.Set("Authorization", "pat "+c.pat)
	var ignored json.RawMessage
	runErr := c.gql.Run(actx, req, &ignored)
	if !ex.answered {
		if runErr == nil {
			runErr = errors.New("no answer")
		}
		if ctx.Err() != nil {
			runErr = ctx.Err()
		}
		return &Error{Op: op, Class: ErrTransient, Message: "no answer", Err: runErr}
	}
	if ex.readErr != nil {
		return &Error{Op: op, Class: ErrTransient, Status: ex.status, Message: "reading the answer", Err: ex.readErr}
	}
	if ex.tooLarge {
		return &Error{Op: op, Class: ErrAPI, Status: ex.status, Message: fmt.Sprintf("answer larger than %d bytes", maxBody)}
	}
	var env envelope
	if e := classifyHTTP(op, ex.status, ex.header, ex.body, &env); e != nil {
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return &Error{Op: op, Class: ErrAPI, Status: ex.status, Message: "unexpected answer shape", Err: err}
	}
	return nil
}

// exchange records the HTTP answer machinebox/graphql would otherwise hide
// (it drops the status code and headers, and ignores a 500 with a JSON
// body), so the client can classify it.
type exchange struct {
	answered bool
	status   int
	header   http.Header
	body     []byte
	tooLarge bool
	readErr  error
}

type exchangeKey struct{}

type captureTransport struct{ inner http.RoundTripper }

func (t captureTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := t.inner.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	ex, _ := r.Context().Value(exchangeKey{}).(*exchange)
	if ex == nil {
		return res, nil
	}
	body, rerr := io.ReadAll(io.LimitReader(res.Body, maxBody+1))
	res.Body.Close()
	ex.answered = true
	ex.status = res.StatusCode
	ex.header = res.Header
	ex.readErr = rerr
	if len(body) > maxBody {
		ex.tooLarge = true
		body = body[:maxBody]
	}
	ex.body = body
	res.Body = io.NopCloser(bytes.NewReader(body))
	return res, nil
}
