// Package ghsim is an in-process simulator of the subset of the GitHub REST
// API that hasura-preview talks to: issue comments, deployments and their
// statuses, pull requests, repository contents, collaborator permissions,
// labels, GitHub App installation tokens, and the App manifest flow (the
// web page a manifest is posted to and the code conversion).
//
// It answers with the JSON shapes api.github.com sends (so go-github v60
// decodes them as it would in production), enforces what a token may do the
// way GitHub does (401 Bad credentials, 404 for repositories outside a
// token's reach, 403 "Resource not accessible by integration"), pages lists
// with RFC 5988 Link headers built from absolute URLs, and can be told to
// fail (rate limits, 5xx) so callers' retry paths run for real.
//
// The Server is a plain http.Handler: tests mount it with NewTestServer,
// the webhook service's sandbox mode mounts it in its own http.Server.
// State is seeded and inspected through Go methods, all safe for
// concurrent use with requests in flight.
package ghsim

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Prefix is the path the API is mounted under, e.g. "/api/v3/" as on
	// GitHub Enterprise Server. Requests outside it get 404, which is how
	// tests catch clients that build absolute paths and drop the prefix.
	// Default "/".
	Prefix string

	// Now is the clock for timestamps, token expiry, JWT checks and rate
	// limit windows. Default time.Now.
	Now func() time.Time

	// OnWrite, when set, is called for every authorised content write
	// (creating, editing or deleting comments, labels, deployments and
	// deployment statuses) before it changes any state, without the
	// server's lock held. Tests block in it to hold writes in flight and
	// then read Stats().MaxConcurrentWrites to assert a caller's pacing.
	OnWrite func(method, path string)

	// ContentWritesPerMinute, when positive, makes a token's content
	// writes beyond that many in a minute answer GitHub's secondary rate
	// limit (403, Retry-After: 60), as GitHub does at about 80. Zero
	// means no limit.
	ContentWritesPerMinute int

	// WebUser is who is signed in to the simulated web pages of the
	// manifest flow: the owner of an App registered for a personal
	// account. Default DefaultWebUser.
	WebUser string
}

// Server is the simulator. Create it with New; it implements http.Handler.
type Server struct {
	opts   Options
	prefix string

	mu     sync.Mutex
	st     state
	faults []*faultState
	log    []Request
	stats  Stats
}

// New returns a Server with no repositories, tokens or apps.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, prefix: normalizePrefix(opts.Prefix)}
	s.st.init()
	return s
}

// webURL is the root of html_url fields, as on github.com.
const webURL = "https://github.com"

// normalizePrefix returns p with exactly one leading and one trailing slash.
func normalizePrefix(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return "/"
	}
	return "/" + p + "/"
}

// Prefix returns the normalised mount path, e.g. "/api/v3/".
func (s *Server) Prefix() string { return s.prefix }

// now returns the simulator's clock truncated to whole seconds, the
// resolution of every timestamp GitHub returns.
func (s *Server) now() time.Time { return s.opts.Now().UTC().Truncate(time.Second) }

// ServeHTTP answers one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w}
	body := readBody(r)
	entry := Request{
		Method: r.Method,
		Query:  r.URL.RawQuery,
		Auth:   AuthNone,
		Body:   string(body),
	}
	defer func() {
		entry.Status = rec.status
		s.mu.Lock()
		s.log = append(s.log, entry)
		s.stats.Requests++
		s.mu.Unlock()
	}()

	// The manifest flow's web pages live at the web root, outside the
	// API prefix (on github.com, outside api.github.com).
	if s.serveWeb(rec, r, body) {
		entry.Path = r.URL.EscapedPath()
		return
	}
	// Route on the escaped path so a %2F inside a segment stays inside it.
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), s.prefix)
	if !ok {
		entry.Path = r.URL.EscapedPath()
		writeError(rec, http.StatusNotFound, msgNotFound)
		return
	}
	entry.Path = "/" + rest

	c := &call{s: s, w: rec, r: r, body: body, path: "/" + rest, entry: &entry}
	if s.convertManifest(c) {
		return
	}
	s.serve(c)
}

// statusRecorder remembers the status code for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
