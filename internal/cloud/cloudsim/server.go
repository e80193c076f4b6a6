package cloudsim

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Default durations: short, so an unconfigured simulator answers quickly.
const (
	DefaultCreationDuration = 2 * time.Second
	DefaultTaskDuration     = 500 * time.Millisecond
	// DefaultPath is where the real API serves GraphQL.
	DefaultPath = "/v1/graphql"
	// DefaultMaxBodyBytes caps a request body.
	DefaultMaxBodyBytes = 1 << 20
	defaultLogLimit     = 1000
)

// Options configures a Server. Only PAT is required.
type Options struct {
	// PAT is the personal access token clients must send as
	// "Authorization: pat <PAT>".
	PAT string
	// Clock drives job progress; nil means the real clock.
	Clock Clock
	// CreationDuration is how long a creation job runs; zero means
	// DefaultCreationDuration.
	CreationDuration time.Duration
	// TaskDuration is how long each deployment task runs; zero means
	// DefaultTaskDuration.
	TaskDuration time.Duration
	// MonthlyQuota caps accepted createGitHubPreviewApp calls per calendar
	// month of the clock (UTC); zero means unlimited. The free tier is 60.
	MonthlyQuota int
	// FailTasks are standing failures: every deployment of a matching app
	// fails at the task. One-shot FailTask failures come first.
	FailTasks []TaskFailure
	// Seed makes ids and generated names reproducible; zero picks one at random.
	Seed uint64
	// Path is the GraphQL endpoint path; empty means DefaultPath. The
	// handler also answers GET /healthz.
	Path string
	// MaxBodyBytes caps a request body; zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// LogLimit is how many Records Log keeps; zero means 1000.
	LogLimit int
	// EndpointWithPath makes projects.endpoint the GraphQL URL
	// (https://<name>.hasura.app/v1/graphql) instead of the bare origin
	// (https://<name>.hasura.app) that public PAT clients show the real
	// Cloud answers: they append /healthz and /v1/metadata to it.
	EndpointWithPath bool
	// FirstRun makes every new project's first build meet what users report
	// of first runs: projects_by_pk answers null once right after the
	// creation, the deployment job reads null for its first two reads
	// (action#114), and the first deployment fails at apply-metadata with
	// WarmingUpText (action#91; a rebuild then succeeds).
	FirstRun bool
	// OnRequest, if set, is called after each GraphQL request is answered.
	// It runs on the request's goroutine, outside the simulator's locks.
	OnRequest func(Record)
}

// TaskFailure makes a deployment fail at Task with Error and GitHubDetail.
type TaskFailure struct {
	App          string // "" matches every app (Options.FailTasks only)
	Task         string
	Error        string
	GitHubDetail string
}

// Record describes one answered GraphQL request, for tests and logs. It
// never holds the Authorization header. Variables hold what the client
// sent, secrets included (a GitHub token, say): assert on it, never log it.
type Record struct {
	Time          time.Time // the simulator clock when the request arrived
	Ops           []string  // root field names in document order
	OperationName string
	Query         string
	Variables     json.RawMessage
	Status        int       // HTTP status written
	Fault         FaultKind // "" when no fault was injected
	Authorized    bool      // a valid token was presented
	ErrorCode     string    // extensions.code of the error answered, if any
	Duration      time.Duration
}

// Server simulates the Hasura Cloud API. It is an http.Handler and is safe
// for concurrent use.
type Server struct {
	opts    Options
	patHash [32]byte

	mu           sync.Mutex // guards the world below
	rng          *mrand.Rand
	byName       map[string]*project
	byID         map[string]*project
	byTenant     map[string]*project
	jobs         map[string]*job
	appJobs      map[string][]*job
	pending      []*job // creation jobs not yet applied
	projectSeq   int
	creates      []time.Time
	failTask     map[string][]TaskFailure
	failCreation map[string][]string
	appDurations map[string][2]time.Duration

	statMu   sync.Mutex // guards counters and the log
	executed map[string]int
	requests map[string]int
	log      []Record

	faultMu   sync.Mutex
	faults    []Fault
	randRate  float64
	randFault *mrand.Rand
}

// New returns a simulator. It refuses an empty PAT: a simulator that
// accepts any token would hide a client that sends none.
func New(opts Options) (*Server, error) {
	if opts.PAT == "" {
		return nil, errors.New("cloudsim: Options.PAT is required")
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.CreationDuration <= 0 {
		opts.CreationDuration = DefaultCreationDuration
	}
	if opts.TaskDuration <= 0 {
		opts.TaskDuration = DefaultTaskDuration
	}
	if opts.Path == "" {
		opts.Path = DefaultPath
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.LogLimit <= 0 {
		opts.LogLimit = defaultLogLimit
	}
	seed := opts.Seed
	if seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:])
	}
	return &Server{
		opts:         opts,
		patHash:      sha256.Sum256([]byte(opts.PAT)),
		rng:          mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		byName:       map[string]*project{},
		byID:         map[string]*project{},
		byTenant:     map[string]*project{},
		jobs:         map[string]*job{},
		appJobs:      map[string][]*job{},
		failTask:     map[string][]TaskFailure{},
		failCreation: map[string][]string{},
		appDurations: map[string][2]time.Duration{},
		executed:     map[string]int{},
		requests:     map[string]int{},
	}, nil
}

// newID returns a random version 4 UUID from the simulator's generator.
func (s *Server) newID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], s.rng.Uint64())
	binary.LittleEndian.PutUint64(b[8:], s.rng.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := make([]byte, 32)
	for i, c := range b {
		h[2*i], h[2*i+1] = hexDigits[c>>4], hexDigits[c&0xf]
	}
	return string(h[:8]) + "-" + string(h[8:12]) + "-" + string(h[12:16]) + "-" + string(h[16:20]) + "-" + string(h[20:])
}

// ServeHTTP answers POST <Path> with GraphQL and GET /healthz with "OK".
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case s.opts.Path:
		s.serveGraphQL(w, r)
	case "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "OK")
	default:
		writeJSON(w, http.StatusNotFound, []byte(`{"path":"$","error":"resource does not exist","code":"not-found"}`))
	}
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Server) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	rec := Record{Time: s.opts.Clock.Now(), Status: http.StatusOK}
	defer func() {
		rec.Duration = time.Since(started)
		s.record(rec)
	}()
	reply := func(status int, body []byte, gerr *gqlError) {
		rec.Status = status
		if gerr != nil {
			rec.ErrorCode = gerr.code
		}
		writeJSON(w, status, body)
	}

	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		e := newErr(stageRequest, "method-not-allowed", "$", "only POST is supported")
		reply(http.StatusMethodNotAllowed, errorBody(e), e)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		e := newErr(stageRequest, "parse-failed", "$", "request body too large or unreadable")
		reply(http.StatusRequestEntityTooLarge, errorBody(e), e)
		return
	}
	req, perr := prepare(body)
	rec.Ops, rec.OperationName, rec.Query, rec.Variables = req.ops, req.opName, req.query, req.rawVars
	s.countRequests(req.ops)

	nullField := ""
	if f := s.pickFault(req.ops); f != nil {
		rec.Fault = f.Kind
		if f.Kind == FaultNullJob || f.Kind == FaultNullProject {
			nullField = f.Op
		} else if !s.writeFault(w, r, f, &rec) {
			return
		}
	}

	rec.Authorized = s.tokenOK(strings.TrimSpace(r.Header.Get("Authorization")))
	if perr != nil && (rec.Authorized || perr.stage < stageSchema) {
		reply(http.StatusOK, errorBody(perr), perr)
		return
	}
	if !rec.Authorized {
		// A missing, malformed or wrong token is not refused with a 401:
		// the request runs as the anonymous role, whose schema is empty,
		// so the first root field is "not found" (HTTP 200). The official
		// action relies on this: it reports "invalid authorization" when
		// the message names 'projects' and 'query_root'.
		e := anonymousError(req)
		reply(http.StatusOK, errorBody(e), e)
		return
	}

	now := s.lockAt()
	x := &exec{s: s, now: now, nullField: nullField}
	data, gerr := x.resolveFields(req.plan, req.root, nil, true)
	s.mu.Unlock()
	if gerr != nil {
		reply(http.StatusOK, errorBody(gerr), gerr)
		return
	}
	out := newOrdMap()
	out.set("data", data)
	reply(http.StatusOK, appendJSON(nil, out), nil)
}

func anonymousError(req *request) *gqlError {
	root, name := "query_root", "__typename"
	if req.root != nil {
		root = req.root.name
	}
	if len(req.ops) > 0 {
		name = req.ops[0]
	}
	return newErr(stageSchema, "validation-failed", "$.selectionSet."+name,
		"field \"%s\" not found in type: '%s'", name, root)
}

// tokenOK checks "pat <token>" in constant time over fixed-length digests,
// so neither the token nor its length leaks through timing.
func (s *Server) tokenOK(header string) bool {
	if header == "" {
		return false
	}
	scheme, token, _ := strings.Cut(header, " ")
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	ok := subtle.ConstantTimeCompare(got[:], s.patHash[:]) == 1
	return ok && strings.EqualFold(scheme, "pat")
}

func (s *Server) countRequests(ops []string) {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	for _, op := range ops {
		s.requests[op]++
	}
}

func (s *Server) countExecuted(op string) {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	s.executed[op]++
}

func (s *Server) record(rec Record) {
	s.statMu.Lock()
	s.log = append(s.log, rec)
	if over := len(s.log) - s.opts.LogLimit; over > 0 {
		s.log = append(s.log[:0:0], s.log[over:]...)
	}
	s.statMu.Unlock()
	if s.opts.OnRequest != nil {
		s.opts.OnRequest(rec)
	}
}

// Count returns how many times root field op executed: faulted requests,
// rejected tokens and invalid documents do not count.
func (s *Server) Count(op string) int {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	return s.executed[op]
}

// Requests returns how many requests named root field op, whatever became
// of them (faults, auth failures, validation errors included).
func (s *Server) Requests(op string) int {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	return s.requests[op]
}

// Counts returns a copy of the executed counts by root field.
func (s *Server) Counts() map[string]int {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	out := make(map[string]int, len(s.executed))
	for k, v := range s.executed {
		out[k] = v
	}
	return out
}

// ResetCounts zeroes Count and Requests. The quota is not reset: it counts
// calls in the clock's month, as the real one does.
func (s *Server) ResetCounts() {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	clear(s.executed)
	clear(s.requests)
}

// Log returns the most recent requests, oldest first.
func (s *Server) Log() []Record {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	return append([]Record(nil), s.log...)
}

// ResetLog empties the request log.
func (s *Server) ResetLog() {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	s.log = nil
}
