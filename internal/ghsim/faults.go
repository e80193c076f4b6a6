package ghsim

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault makes matching requests fail the way GitHub fails, before any
// authorisation check or state change (the log still names the caller).
type Fault struct {
	Method       string // "" matches any method
	PathContains string // substring of the path after the prefix; "" matches any

	// Status is 403 or 429 for a rate limit, or a 5xx. 403 and 429 answer
	// a secondary rate limit (what go-github reports as
	// *AbuseRateLimitError for 403) unless RateLimitRemaining0, which makes
	// it a primary one (X-RateLimit-Remaining: 0, *RateLimitError for
	// 403). 502 answers an HTML page, as GitHub's front end does. Default
	// 403 with RateLimitRemaining0, else 500.
	Status              int
	RateLimitRemaining0 bool
	// RetryAfter, when positive, is sent as Retry-After (whole seconds,
	// rounded up); for a primary limit it also sets X-RateLimit-Reset
	// (default one minute ahead).
	RetryAfter time.Duration
	// Count is how many requests the fault hits: 0 means once, -1 means
	// every matching request until ClearFaults.
	Count int
	// Message overrides the JSON message.
	Message string
}

type faultState struct {
	f    Fault
	left int // -1: unlimited
}

// Inject adds a fault. Faults are tried in the order injected.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	left := f.Count
	if left == 0 {
		left = 1
	}
	s.faults = append(s.faults, &faultState{f: f, left: left})
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the first matching fault with hits left, using one.
func (s *Server) takeFault(method, path string) *Fault {
	for i, fs := range s.faults {
		if (fs.f.Method != "" && !strings.EqualFold(fs.f.Method, method)) ||
			!strings.Contains(path, fs.f.PathContains) {
			continue
		}
		if fs.left > 0 {
			fs.left--
			if fs.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		f := fs.f
		return &f
	}
	return nil
}

const (
	docsPrimaryLimit   = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits"
	docsSecondaryLimit = "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
	msgSecondaryLimit  = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. " +
		"If you reach out to GitHub Support for help, please include the request ID."
	msgPrimaryLimit = "API rate limit exceeded. Authenticated requests get a higher rate limit. Check out the documentation for more details."
)

func (s *Server) writeFault(w http.ResponseWriter, f *Fault) {
	status := f.Status
	if status == 0 {
		status = http.StatusInternalServerError
		if f.RateLimitRemaining0 {
			status = http.StatusForbidden
		}
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64((f.RetryAfter+time.Second-1)/time.Second), 10))
	}
	msg := func(def string) string {
		if f.Message != "" {
			return f.Message
		}
		return def
	}
	switch {
	case f.RateLimitRemaining0:
		reset := f.RetryAfter
		if reset <= 0 {
			reset = time.Minute
		}
		setRateHeaders(w, 5000, 0, s.now().Add(reset))
		writeJSON(w, status, apiError{Message: msg(msgPrimaryLimit), DocumentationURL: docsPrimaryLimit, Status: strconv.Itoa(status)})
	case status == http.StatusForbidden || status == http.StatusTooManyRequests:
		writeJSON(w, status, apiError{Message: msg(msgSecondaryLimit), DocumentationURL: docsSecondaryLimit, Status: strconv.Itoa(status)})
	case status == http.StatusBadGateway && f.Message == "":
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n"))
	default:
		writeError(w, status, msg(http.StatusText(status)))
	}
}

func setRateHeaders(w http.ResponseWriter, limit, remaining int, reset time.Time) {
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Used", strconv.Itoa(limit-remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
}

// countRateLimit charges a request (if charge) to the token's hourly window, sets
// the rate-limit headers GitHub sends on every response, and answers the
// primary-limit 403 once the window is spent.
func (s *Server) countRateLimit(w http.ResponseWriter, t *tokenState, charge bool) bool {
	now := s.now()
	if t.windowReset.IsZero() || !now.Before(t.windowReset) {
		t.used, t.windowReset = 0, now.Add(time.Hour)
	}
	if charge && t.used >= t.spec.RateLimit {
		setRateHeaders(w, t.spec.RateLimit, 0, t.windowReset)
		writeJSON(w, http.StatusForbidden, apiError{
			Message:          "API rate limit exceeded for " + t.spec.Label + ".",
			DocumentationURL: docsPrimaryLimit, Status: "403",
		})
		return false
	}
	if charge {
		t.used++
	}
	setRateHeaders(w, t.spec.RateLimit, max(0, t.spec.RateLimit-t.used), t.windowReset)
	return true
}

func (c *call) getRateLimit() {
	t := c.who.tok
	rate := map[string]any{
		"limit": t.spec.RateLimit, "remaining": max(0, t.spec.RateLimit-t.used), "used": t.used,
		"reset": t.windowReset.Unix(), "resource": "core",
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"resources": map[string]any{"core": rate}, "rate": rate})
}

// allowContentWrite applies Options.ContentWritesPerMinute to the token:
// a sliding one-minute window of the content writes it was allowed.
func (s *Server) allowContentWrite(t *tokenState) bool {
	limit := s.opts.ContentWritesPerMinute
	if limit <= 0 || t == nil {
		return true
	}
	now := s.now()
	recent := t.writes[:0]
	for _, at := range t.writes {
		if now.Sub(at) < time.Minute {
			recent = append(recent, at)
		}
	}
	t.writes = recent
	if len(recent) >= limit {
		return false
	}
	t.writes = append(t.writes, now)
	return true
}
