package ghapp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

// TestMiddlewareWrapsEveryInstallationClient: the App's middleware runs, in
// the order given, around every call of every installation's client, and
// learns which installation it serves.
func TestMiddlewareWrapsEveryInstallationClient(t *testing.T) {
	sim, base := newSim(t)
	sim.AddInstallation(appID, instID+1, "other", []string{"site"})
	var seen []string
	record := func(name string) Middleware {
		return func(id int64, next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(req *http.Request) (*http.Response, error) {
				seen = append(seen, name+" "+strconv.FormatInt(id, 10))
				return next.RoundTrip(req)
			})
		}
	}
	app := appOn(t, base, WithMiddleware(record("outer"), record("inner")))
	ctx := context.Background()
	for _, c := range []struct {
		id          int64
		owner, repo string
	}{{instID, "acme", "shop"}, {instID + 1, "other", "site"}} {
		gh, err := app.Installation(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := gh.Repositories.Get(ctx, c.owner, c.repo); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"outer 77", "inner 77", "outer 78", "inner 78"}
	if len(seen) != len(want) {
		t.Fatalf("middleware saw %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("middleware saw %v, want %v", seen, want)
		}
	}
}

// TestRateLimitRemainingGauge: the gauge follows GitHub's
// X-RateLimit-Remaining per installation, and a GitHub answer with no
// headers (a 502 from the front end) leaves it alone.
func TestRateLimitRemainingGauge(t *testing.T) {
	sim, base := newSim(t)
	gauge := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "remaining"}, []string{"installation"})
	app := appOn(t, base, WithMiddleware(RateLimitRemaining(gauge)))
	ctx := context.Background()
	gh, err := app.Installation(ctx, instID)
	if err != nil {
		t.Fatal(err)
	}
	value := func() float64 {
		t.Helper()
		var m dto.Metric
		if err := gauge.WithLabelValues(strconv.Itoa(instID)).Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetGauge().GetValue()
	}
	var last int
	for range 2 {
		_, resp, err := gh.Repositories.Get(ctx, "acme", "shop")
		if err != nil {
			t.Fatal(err)
		}
		if got := value(); got != float64(resp.Rate.Remaining) {
			t.Fatalf("gauge = %v, GitHub said %d remaining", got, resp.Rate.Remaining)
		}
		last = resp.Rate.Remaining
	}
	sim.Inject(ghsim.Fault{Method: "GET", PathContains: "/repos/acme/shop", Status: http.StatusBadGateway})
	if _, _, err := gh.Repositories.Get(ctx, "acme", "shop"); err == nil {
		t.Fatal("the injected 502 did not fail the call")
	}
	if got := value(); got != float64(last) {
		t.Errorf("gauge = %v after an answer without headers, want %d kept", got, last)
	}
}

// TestRateLimitAnswersAreNotRemembered: after a secondary limit with
// Retry-After, go-github alone refuses every request until the wall clock
// passes it; through TokenClient the next request reaches GitHub, and the
// answer still classifies as go-github's own error.
func TestRateLimitAnswersAreNotRemembered(t *testing.T) {
	for _, tt := range []struct {
		name    string
		status  int
		headers map[string]string
		body    string
		is      func(error) bool
	}{
		{"secondary 403", http.StatusForbidden, map[string]string{"Retry-After": "3600"},
			`{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`,
			func(err error) bool {
				var e *github.AbuseRateLimitError
				return errors.As(err, &e) && *e.RetryAfter == time.Hour
			}},
		{"primary 403", http.StatusForbidden, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "5000", "X-RateLimit-Reset": strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)},
			`{"message":"API rate limit exceeded"}`,
			func(err error) bool { var e *github.RateLimitError; return errors.As(err, &e) && e.Rate.Remaining == 0 }},
		{"429", http.StatusTooManyRequests, map[string]string{"Retry-After": "3600"}, `{"message":"slow down"}`,
			func(err error) bool {
				var e *github.AbuseRateLimitError
				return errors.As(err, &e) && e.Response.StatusCode == http.StatusTooManyRequests && e.Response.Header.Get("Retry-After") == "3600"
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			mux := http.NewServeMux()
			mux.HandleFunc("GET /api/v3/repos/acme/shop", func(w http.ResponseWriter, r *http.Request) {
				calls++
				if r.Header.Get("Authorization") != "Bearer tok" {
					t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
				}
				if calls == 1 {
					for k, v := range tt.headers {
						w.Header().Set(k, v)
					}
					w.WriteHeader(tt.status)
					_, _ = w.Write([]byte(tt.body))
					return
				}
				_, _ = w.Write([]byte(`{"name":"shop"}`))
			})
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			gh, err := TokenClient(&http.Client{}, srv.URL+"/api/v3/", "tok")
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, _, err := gh.Repositories.Get(ctx, "acme", "shop"); !tt.is(err) {
				t.Fatalf("first call: %v (%T), want go-github's rate-limit error", err, err)
			}
			if _, _, err := gh.Repositories.Get(ctx, "acme", "shop"); err != nil || calls != 2 {
				t.Fatalf("second call: %v after %d requests; want it sent and answered", err, calls)
			}
		})
	}
}

// TestAppCallRateLimits: an App call answered with a rate limit (a 403
// with Retry-After or no budget left, a 429) is tried again; any other 403
// is final.
func TestAppCallRateLimits(t *testing.T) {
	for _, tt := range []struct {
		name      string
		status    int
		headers   map[string]string
		message   string
		wantCalls int
	}{
		{"secondary 403", http.StatusForbidden, map[string]string{"Retry-After": "1"}, "You have exceeded a secondary rate limit.", 2},
		{"primary 403", http.StatusForbidden, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"}, "API rate limit exceeded", 2},
		{"429", http.StatusTooManyRequests, nil, "slow down", 2},
		{"other 403", http.StatusForbidden, nil, "This installation has been suspended", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			mux := http.NewServeMux()
			mux.HandleFunc("GET /api/v3/app", func(w http.ResponseWriter, r *http.Request) {
				if calls++; calls == 1 {
					for k, v := range tt.headers {
						w.Header().Set(k, v)
					}
					w.WriteHeader(tt.status)
					_, _ = w.Write([]byte(`{"message":"` + tt.message + `"}`))
					return
				}
				_, _ = w.Write([]byte(`{"slug":"preview"}`))
			})
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			login, err := appOn(t, srv.URL+"/api/v3/").BotLogin(context.Background())
			if calls != tt.wantCalls {
				t.Fatalf("%d requests (BotLogin = %q, %v), want %d", calls, login, err, tt.wantCalls)
			}
			if tt.wantCalls == 2 && login != "preview[bot]" {
				t.Errorf("BotLogin = %q, %v after the retry", login, err)
			}
		})
	}
}
