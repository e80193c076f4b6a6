package ghsim

import (
	"slices"
	"strings"
)

// Request is one entry of the request log. Credentials are never stored:
// Principal names the token by its label (or the App by "app:<id>").
type Request struct {
	Method    string
	Path      string // after the prefix, with a leading slash; the full path if outside it
	Query     string // raw query string
	Auth      string // AuthNone, AuthToken, AuthJWT or AuthInvalid
	Principal string // token label or "app:<id>"; "" when none or invalid
	Status    int
	Body      string // request body as received
	Fault     bool   // answered by an injected Fault
}

// Stats counts what happened, for assertions about volume and pacing.
// Write counters count successful writes only.
type Stats struct {
	Requests                int
	CommentCreates          int
	CommentUpdates          int
	CommentDeletes          int
	LabelWrites             int
	DeploymentCreates       int
	DeploymentStatusCreates int
	DeploymentDeletes       int
	TokensMinted            int
	FaultsServed            int
	// MaxConcurrentWrites is the most content writes that were in flight
	// at once (see Options.OnWrite for holding them open).
	MaxConcurrentWrites int

	inFlight int
}

// ContentWrites is the number of successful requests that created or
// changed content (comments, labels, deployments, statuses): the kind
// GitHub throttles to about 80 a minute.
func (st Stats) ContentWrites() int {
	return st.CommentCreates + st.CommentUpdates + st.CommentDeletes + st.LabelWrites +
		st.DeploymentCreates + st.DeploymentStatusCreates + st.DeploymentDeletes
}

// Requests returns a copy of the request log, oldest first. An entry is
// added when its response is complete.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// CountRequests counts logged requests with the method ("" for any) whose
// path contains pathContains.
func (s *Server) CountRequests(method, pathContains string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.log {
		if (method == "" || strings.EqualFold(method, r.Method)) && strings.Contains(r.Path, pathContains) {
			n++
		}
	}
	return n
}

// Stats returns the counters so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.inFlight = 0
	return st
}
