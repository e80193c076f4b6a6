package ghreport_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// TestRateLimitsAreWaitedOut: every kind of rate-limit answer is retried
// after the wait GitHub asked for, and the retry reaches the server (the
// go-github client would otherwise refuse it locally until the wall clock
// catches up with the reset).
func TestRateLimitsAreWaitedOut(t *testing.T) {
	cases := []struct {
		name  string
		fault ghsim.Fault
		skew  time.Duration // Reporter clock ahead of the simulator's
		want  time.Duration
	}{
		{"429 with Retry-After", ghsim.Fault{Status: http.StatusTooManyRequests, RetryAfter: 30 * time.Second}, 0, 30 * time.Second},
		{"429 without Retry-After", ghsim.Fault{Status: http.StatusTooManyRequests}, 0, time.Minute},
		{"403 secondary with Retry-After", ghsim.Fault{Status: http.StatusForbidden, RetryAfter: 45 * time.Second}, 0, 45 * time.Second},
		{"403 secondary without Retry-After", ghsim.Fault{Status: http.StatusForbidden}, 0, time.Minute},
		{"403 primary, reset a minute ahead", ghsim.Fault{RateLimitRemaining0: true}, 15 * time.Second, 45 * time.Second},
		{"403 primary with Retry-After", ghsim.Fault{RateLimitRemaining0: true, RetryAfter: 2 * time.Minute}, 0, 2 * time.Minute},
	}
	for _, c := range cases {
		for _, method := range []string{"GET", "POST"} {
			t.Run(c.name+" "+method, func(t *testing.T) {
				e := newEnv(t, ghsim.Options{})
				f := c.fault
				f.Method, f.PathContains = method, commentsPath
				e.sim.Inject(f)
				r := e.reporter(t, ghreport.WithClock(func() time.Time { return e.clk.Now().Add(c.skew) }))
				must(t, r.Update(context.Background(), view(preview.StatusSuccess)))
				if got := e.slp.Waits(); !slices.Equal(got, []time.Duration{c.want}) {
					t.Errorf("waits %v, want [%v]", got, c.want)
				}
				if got := e.marked(ghreport.Marker); len(got) != 1 {
					t.Errorf("%d comments after the retry", len(got))
				}
				if n := e.sim.CountRequests(method, commentsPath); n < 2 {
					t.Errorf("%s reached the server %d times, want the retry to reach it", method, n)
				}
			})
		}
	}
}

func TestRateLimitLongerThanMaxWaitIsReturned(t *testing.T) {
	e := newEnv(t, ghsim.Options{})
	e.sim.Inject(ghsim.Fault{Status: http.StatusForbidden, RetryAfter: 30 * time.Minute, PathContains: commentsPath})
	r := e.reporter(t)
	err := r.Update(context.Background(), view(preview.StatusSuccess))
	if !errors.Is(err, ghreport.ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
	var rl *ghreport.RateLimitError
	if !errors.As(err, &rl) || !rl.Until.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("err = %v, want a *RateLimitError until %v", err, t0.Add(30*time.Minute))
	}
	if len(e.slp.Waits()) != 0 {
		t.Errorf("slept %v for a wait over the maximum", e.slp.Waits())
	}

	// Coming back at Until reaches GitHub: go-github remembers the limit on
	// the wall clock and would refuse locally for half an hour more.
	e.clk.Advance(30 * time.Minute)
	before := e.sim.CountRequests("", commentsPath)
	must(t, r.Update(context.Background(), view(preview.StatusSuccess)))
	if e.sim.CountRequests("", commentsPath) == before || len(e.marked(ghreport.Marker)) != 1 {
		t.Error("the call after the wait did not reach GitHub")
	}
}

func TestPrimaryLimitNamesTheReset(t *testing.T) {
	e := newMuxEnv(t)
	var n int
	e.mux.Handle("POST /repos/acme/app/deployments", answer(&n, http.StatusForbidden, map[string]string{
		"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(t0.Add(time.Hour).Unix(), 10), "Retry-After": "2400",
	}))
	_, err := e.rep.StartDeployment(context.Background(), ghreport.DeploymentSpec{Environment: "preview/x", Ref: headSHA})
	var rl *ghreport.RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, ghreport.ErrRateLimited) || !rl.Until.Equal(t0.Add(40*time.Minute)) {
		t.Fatalf("err = %v, want a *RateLimitError until %v", err, t0.Add(40*time.Minute))
	}
	if n != 1 || len(e.slp.Waits()) != 0 {
		t.Errorf("%d requests, waits %v; want one request and no wait", n, e.slp.Waits())
	}
}

// refusing is a transport that knows the installation's limit is spent.
type refusing struct{ until time.Time }

func (t refusing) RoundTrip(req *http.Request) (*http.Response, error) {
	return nil, &ghreport.RateLimitError{Until: t.until}
}

// TestKnownLimitIsNotWaitedOn: a request refused before it was sent, by a
// transport that knows the limit, comes back at once with its Until rather
// than being retried as a network error.
func TestKnownLimitIsNotWaitedOn(t *testing.T) {
	clk := clock.NewManual(t0)
	slp := &sleeper{clk: clk}
	until := t0.Add(50 * time.Minute)
	c := github.NewClient(&http.Client{Transport: refusing{until}})
	r := ghreport.New(c, owner, repoName, prNumber, ghreport.WithClock(clk.Now), ghreport.WithSleep(slp.Sleep))
	err := r.Update(context.Background(), view(preview.StatusSuccess))
	var rl *ghreport.RateLimitError
	if !errors.As(err, &rl) || !rl.Until.Equal(until) {
		t.Fatalf("err = %v, want a *RateLimitError until %v", err, until)
	}
	if w := slp.Waits(); len(w) != 0 {
		t.Errorf("waited %v", w)
	}
}

func TestRateLimitUntil(t *testing.T) {
	now := t0
	withHeader := func(status int, h map[string]string) *http.Response {
		r := &http.Response{StatusCode: status, Header: http.Header{}}
		for k, v := range h {
			r.Header.Set(k, v)
		}
		return r
	}
	retry := 90 * time.Second
	cases := []struct {
		name string
		err  error
		want time.Time
		ok   bool
	}{
		{"RateLimitError", fmt.Errorf("wrapped: %w", &ghreport.RateLimitError{Until: now.Add(time.Hour)}), now.Add(time.Hour), true},
		{"primary", &github.RateLimitError{Response: withHeader(403, nil), Rate: github.Rate{Reset: github.Timestamp{Time: now.Add(59 * time.Minute)}}}, now.Add(59 * time.Minute), true},
		{"secondary Retry-After", &github.AbuseRateLimitError{Response: withHeader(403, map[string]string{"Retry-After": "120"})}, now.Add(2 * time.Minute), true},
		{"secondary go-github estimate", &github.AbuseRateLimitError{Response: withHeader(403, nil), RetryAfter: &retry}, now.Add(retry), true},
		{"secondary no header", &github.AbuseRateLimitError{Response: withHeader(403, nil)}, now.Add(time.Minute), true},
		{"429", &github.AbuseRateLimitError{Response: withHeader(429, map[string]string{"Retry-After": "30"})}, now.Add(30 * time.Second), true},
		{"403 permission", &github.ErrorResponse{Response: withHeader(403, nil), Message: "Resource not accessible by integration"}, time.Time{}, false},
		{"other", errors.New("boom"), time.Time{}, false},
	}
	for _, c := range cases {
		got, ok := ghreport.RateLimitUntil(c.err, now)
		if ok != c.ok || !got.Equal(c.want) {
			t.Errorf("%s: got %v %v, want %v %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestPersistentRateLimitGivesUp(t *testing.T) {
	e := newMuxEnv(t)
	var n int
	e.mux.Handle("/", answer(&n, http.StatusTooManyRequests, map[string]string{"Retry-After": "10"}))
	err := e.rep.Update(context.Background(), view(preview.StatusSuccess))
	if !errors.Is(err, ghreport.ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
	if w := e.slp.Waits(); len(w) != 4 || n != 5 {
		t.Errorf("waited %v over %d requests, want 4 waits of 10s", w, n)
	}
}

func TestServerErrorsAreRetriedWithBackoff(t *testing.T) {
	t.Run("500 twice then fine", func(t *testing.T) {
		e := newEnv(t, ghsim.Options{})
		e.sim.Inject(ghsim.Fault{Status: http.StatusInternalServerError, Method: "POST", PathContains: commentsPath, Count: 2})
		must(t, e.reporter(t).Update(context.Background(), view(preview.StatusSuccess)))
		w := e.slp.Waits()
		// Default policy: 1 s then 1.5 s (backoff's multiplier), each
		// randomised by ±50 %.
		if len(w) != 2 || w[0] < 500*time.Millisecond || w[0] > 1500*time.Millisecond || w[1] < 750*time.Millisecond || w[1] > 2250*time.Millisecond {
			t.Errorf("waits %v", w)
		}
		if len(e.marked(ghreport.Marker)) != 1 {
			t.Error("comment not written after the retries")
		}
	})
	t.Run("502 HTML page", func(t *testing.T) {
		e := newEnv(t, ghsim.Options{})
		e.sim.Inject(ghsim.Fault{Status: http.StatusBadGateway, Method: "POST", PathContains: "/deployments"})
		id, err := e.reporter(t).StartDeployment(context.Background(), ghreport.DeploymentSpec{Environment: "preview/x", Ref: headSHA})
		must(t, err)
		if id == 0 || len(e.slp.Waits()) != 1 {
			t.Errorf("id %d, waits %v", id, e.slp.Waits())
		}
	})
	t.Run("503 for good", func(t *testing.T) {
		e := newMuxEnv(t, ghreport.WithBackOff(func() backoff.BackOff {
			return backoff.WithMaxRetries(backoff.NewConstantBackOff(time.Second), 3)
		}))
		var n int
		e.mux.Handle("GET /repos/acme/app/issues/7/comments", answer(&n, http.StatusServiceUnavailable, nil))
		err := e.rep.Update(context.Background(), view(preview.StatusSuccess))
		if err == nil || errors.Is(err, ghreport.ErrNoPermission) {
			t.Fatalf("err = %v, want the 503", err)
		}
		if w := e.slp.Waits(); !slices.Equal(w, []time.Duration{time.Second, time.Second, time.Second}) {
			t.Errorf("waits %v, want three of 1s", w)
		}
		if n != 4 {
			t.Errorf("%d attempts, want 4", n)
		}
	})
}

func TestContextEndsAWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	e := newMuxEnv(t, ghreport.WithSleep(func(context.Context, time.Duration) error {
		cancel()
		return context.Canceled
	}))
	var n int
	e.mux.Handle("/", answer(&n, http.StatusTooManyRequests, map[string]string{"Retry-After": "30"}))
	if err := e.rep.Update(ctx, view(preview.StatusSuccess)); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if !e.rep.Pending() {
		t.Error("a failed write should stay pending for Flush")
	}
}
