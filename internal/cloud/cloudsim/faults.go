package cloudsim

import (
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/clock"
)

// FaultKind names a misbehaviour the simulator can put on a request.
type FaultKind string

// Fault kinds. Except FaultSlow, a faulted request does not execute.
const (
	// FaultServerError answers Status (default 500) with a JSON error body.
	FaultServerError FaultKind = "server-error"
	// FaultEmptyBody answers Status (default 502) with no body at all.
	FaultEmptyBody FaultKind = "empty-body"
	// FaultRateLimit answers 429 with Retry-After in whole seconds
	// (RetryAfter rounded up; default 1 s).
	FaultRateLimit FaultKind = "rate-limit"
	// FaultHTML answers Status (default 200) with the HTML page the real
	// endpoint shows while a project warms up.
	FaultHTML FaultKind = "html"
	// FaultSlow sleeps Delay (or until the client gives up), then answers
	// normally: the operation does execute if the client is still there.
	FaultSlow FaultKind = "slow"
	// FaultNullJob answers jobs_by_pk: null even for an existing job; other
	// root fields of the request execute normally. An empty Op means
	// jobs_by_pk for this kind, so other requests do not use it up.
	FaultNullJob FaultKind = "null-job"
	// FaultNullProject answers projects_by_pk: null for an existing project,
	// as the Cloud does right after creating it; like FaultNullJob, an empty
	// Op means projects_by_pk.
	FaultNullProject FaultKind = "null-project"
	// FaultWarmingUp answers HTTP 200 with a GraphQL error whose message is
	// the first-run refusal of hasura-cloud-preview-apps#91 ("If you have
	// just created this project please wait a few moments…"), as JSON.
	FaultWarmingUp FaultKind = "warming-up"
	// FaultGenericError answers HTTP 200 with the Cloud's backend failure:
	// extensions.code "GenericServerError" with an id.
	FaultGenericError FaultKind = "generic-server-error"
)

// WarmingUpText is the Cloud's first-run refusal (action#91), which a rerun
// does not meet. FailTask with it reproduces a first deployment that fails
// this way.
const WarmingUpText = "If you have just created this project please wait a few moments before refreshing this page."

// Fault is one injected misbehaviour.
type Fault struct {
	// Op is the root field a request must name to be affected ("" = any).
	Op   string
	Kind FaultKind
	// Count is how many matching requests are affected; below 1 means 1.
	Count      int
	Status     int
	RetryAfter time.Duration
	Delay      time.Duration
}

// htmlPage is what the real endpoint's edge serves instead of JSON while a
// freshly created project is not yet routable.
const htmlPage = `<!DOCTYPE html>
<html>
<head><title>Hasura Cloud</title></head>
<body>
<h1>Project not reachable yet</h1>
<p>If you have just created this project please wait a few moments and refresh this page.</p>
</body>
</html>
`

// randomSlowDelay keeps random slow answers short: they are meant to shake
// out timeouts that are too eager, not to slow test suites down.
const randomSlowDelay = 20 * time.Millisecond

// Inject queues f; the next f.Count requests naming f.Op get it. Faults
// queue in order: the first one matching a request is used. An unknown Kind
// is a programming error and panics.
func (s *Server) Inject(f Fault) {
	switch f.Kind {
	case FaultServerError, FaultEmptyBody, FaultRateLimit, FaultHTML, FaultSlow, FaultNullJob,
		FaultNullProject, FaultWarmingUp, FaultGenericError:
	default:
		panic(fmt.Sprintf("cloudsim: unknown fault kind %q", f.Kind))
	}
	if f.Count < 1 {
		f.Count = 1
	}
	if f.Kind == FaultNullJob && f.Op == "" {
		f.Op = "jobs_by_pk"
	}
	if f.Kind == FaultNullProject && f.Op == "" {
		f.Op = "projects_by_pk"
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = append(s.faults, f)
}

// ClearFaults drops queued faults and turns random faults off.
func (s *Server) ClearFaults() {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = nil
	s.randRate = 0
}

// SetRandomFaults gives each request probability rate of a random fault
// among 5xx (JSON or empty), 429, HTML (200 or 503) and a short slow
// answer. The sequence is reproducible from seed when requests arrive in
// a reproducible order. Injected faults take precedence.
func (s *Server) SetRandomFaults(rate float64, seed int64) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.randRate = rate
	s.randFault = mrand.New(mrand.NewPCG(uint64(seed), 0x5eed))
}

var randomFaults = []Fault{
	{Kind: FaultServerError, Status: http.StatusInternalServerError},
	{Kind: FaultServerError, Status: http.StatusServiceUnavailable},
	{Kind: FaultEmptyBody, Status: http.StatusBadGateway},
	{Kind: FaultRateLimit, RetryAfter: time.Second},
	{Kind: FaultHTML, Status: http.StatusOK},
	{Kind: FaultHTML, Status: http.StatusServiceUnavailable},
	{Kind: FaultSlow, Delay: randomSlowDelay},
	{Kind: FaultWarmingUp},
	{Kind: FaultGenericError},
}

func (s *Server) pickFault(ops []string) *Fault {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for i := range s.faults {
		f := &s.faults[i]
		if f.Op != "" && !slices.Contains(ops, f.Op) {
			continue
		}
		picked := *f
		if f.Count--; f.Count == 0 {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		return &picked
	}
	if s.randRate > 0 && s.randFault.Float64() < s.randRate {
		f := randomFaults[s.randFault.IntN(len(randomFaults))]
		return &f
	}
	return nil
}

// writeFault answers r with f. It reports whether the request should go on
// to be executed, which only a slow answer does.
func (s *Server) writeFault(w http.ResponseWriter, r *http.Request, f *Fault, rec *Record) bool {
	status := func(def int) int {
		if f.Status != 0 {
			return f.Status
		}
		return def
	}
	switch f.Kind {
	case FaultSlow:
		if clock.Sleep(r.Context(), f.Delay) != nil {
			rec.Status = 0 // the client gave up: nothing was answered
			return false
		}
		return true
	case FaultServerError:
		rec.Status = status(http.StatusInternalServerError)
		e := newErr(stageRequest, "unexpected", "$", "an unexpected error occurred, please try again")
		rec.ErrorCode = e.code
		writeJSON(w, rec.Status, errorBody(e))
	case FaultEmptyBody:
		rec.Status = status(http.StatusBadGateway)
		w.WriteHeader(rec.Status)
	case FaultRateLimit:
		rec.Status = http.StatusTooManyRequests
		secs := int((f.RetryAfter + time.Second - 1) / time.Second)
		if f.RetryAfter == 0 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		e := newErr(stageRequest, "too-many-requests", "$", "rate limit exceeded, retry later")
		rec.ErrorCode = e.code
		writeJSON(w, rec.Status, errorBody(e))
	case FaultWarmingUp:
		rec.Status = status(http.StatusOK)
		e := newErr(stageRequest, "unexpected", "$", "%s", WarmingUpText)
		rec.ErrorCode = e.code
		writeJSON(w, rec.Status, errorBody(e))
	case FaultGenericError:
		rec.Status = status(http.StatusOK)
		rec.ErrorCode = "GenericServerError"
		s.mu.Lock()
		id := s.newID()
		s.mu.Unlock()
		writeJSON(w, rec.Status, []byte(`{"errors":[{"extensions":{"code":"GenericServerError","id":"`+id+
			`"},"message":"there was an internal error while serving your request"}]}`))
	case FaultHTML:
		rec.Status = status(http.StatusOK)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(rec.Status)
		_, _ = w.Write([]byte(htmlPage))
	}
	return false
}
