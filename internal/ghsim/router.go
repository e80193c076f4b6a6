package ghsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Permission levels, ordered so that a higher one implies the lower ones.
const (
	levelNone = iota
	levelRead
	levelWrite
	levelAdmin
)

// need is the permission a route requires: any one of perms at level.
type need struct {
	perms []string
	level int
}

// route is one endpoint. Patterns are matched segment by segment; "{x}"
// matches one segment and "{x...}" the rest of the path. The first match
// in table order wins, so literal segments are listed before wildcards
// where both could match (issues/comments/{id} vs issues/{n}/comments).
type route struct {
	method  string
	pattern []string
	app     bool // authenticated as the App itself (JWT), not a token
	need    need // for repository routes
	handle  func(*call)
	mutates bool
}

// call carries one request through auth and into its handler.
type call struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	body   []byte
	path   string // after the prefix, with a leading slash
	rpath  string // path as routed: no leading slash, repositories/{id} resolved
	params map[string]string
	entry  *Request
	who    principal
	repo   *repoState
}

var routes []route

func init() {
	issuesRW := func(l int) need { return need{[]string{"issues", "pull_requests"}, l} }
	routes = []route{
		{"GET", seg("app"), true, need{}, (*call).getApp, false},
		{"GET", seg("app/installations/{id}"), true, need{}, (*call).getInstallation, false},
		{"POST", seg("app/installations/{id}/access_tokens"), true, need{}, (*call).createAccessToken, false},
		{"GET", seg("repos/{owner}/{repo}/installation"), true, need{}, (*call).getRepoInstallation, false},
		{"GET", seg("rate_limit"), false, need{}, (*call).getRateLimit, false},
		{"GET", seg("user"), false, need{}, (*call).getAuthenticatedUser, false},
		{"DELETE", seg("installation/token"), false, need{}, (*call).revokeInstallationToken, false},
		{"POST", seg("repos/{owner}/{repo}/issues/comments/{id}/reactions"), false, issuesRW(levelWrite), (*call).createCommentReaction, true},

		{"GET", seg("repos/{owner}/{repo}/issues/comments/{id}"), false, issuesRW(levelRead), (*call).getComment, false},
		{"PATCH", seg("repos/{owner}/{repo}/issues/comments/{id}"), false, issuesRW(levelWrite), (*call).updateComment, true},
		{"DELETE", seg("repos/{owner}/{repo}/issues/comments/{id}"), false, issuesRW(levelWrite), (*call).deleteComment, true},
		{"GET", seg("repos/{owner}/{repo}/issues/{number}/comments"), false, issuesRW(levelRead), (*call).listComments, false},
		{"POST", seg("repos/{owner}/{repo}/issues/{number}/comments"), false, issuesRW(levelWrite), (*call).createComment, true},
		{"GET", seg("repos/{owner}/{repo}/issues/{number}/labels"), false, issuesRW(levelRead), (*call).listLabels, false},
		{"POST", seg("repos/{owner}/{repo}/issues/{number}/labels"), false, issuesRW(levelWrite), (*call).addLabels, true},
		{"DELETE", seg("repos/{owner}/{repo}/issues/{number}/labels/{name}"), false, issuesRW(levelWrite), (*call).removeLabel, true},

		{"GET", seg("repos/{owner}/{repo}/deployments"), false, need{[]string{"deployments"}, levelRead}, (*call).listDeployments, false},
		{"POST", seg("repos/{owner}/{repo}/deployments"), false, need{[]string{"deployments"}, levelWrite}, (*call).createDeployment, true},
		{"GET", seg("repos/{owner}/{repo}/deployments/{id}"), false, need{[]string{"deployments"}, levelRead}, (*call).getDeployment, false},
		{"DELETE", seg("repos/{owner}/{repo}/deployments/{id}"), false, need{[]string{"deployments"}, levelWrite}, (*call).deleteDeployment, true},
		{"GET", seg("repos/{owner}/{repo}/deployments/{id}/statuses"), false, need{[]string{"deployments"}, levelRead}, (*call).listDeploymentStatuses, false},
		{"POST", seg("repos/{owner}/{repo}/deployments/{id}/statuses"), false, need{[]string{"deployments"}, levelWrite}, (*call).createDeploymentStatus, true},

		{"GET", seg("repos/{owner}/{repo}/pulls"), false, need{[]string{"pull_requests"}, levelRead}, (*call).listPulls, false},
		{"GET", seg("repos/{owner}/{repo}/pulls/{number}"), false, need{[]string{"pull_requests"}, levelRead}, (*call).getPull, false},
		{"GET", seg("repos/{owner}/{repo}/pulls/{number}/files"), false, need{[]string{"pull_requests"}, levelRead}, (*call).listPullFiles, false},

		{"GET", seg("repos/{owner}/{repo}/contents"), false, need{[]string{"contents"}, levelRead}, (*call).getContents, false},
		{"GET", seg("repos/{owner}/{repo}/contents/{path...}"), false, need{[]string{"contents"}, levelRead}, (*call).getContents, false},
		{"GET", seg("raw/{owner}/{repo}/{ref}/{path...}"), false, need{[]string{"contents"}, levelRead}, (*call).getRaw, false},
		{"GET", seg("repos/{owner}/{repo}/tarball"), false, need{[]string{"contents"}, levelRead}, (*call).getTarball, false},
		{"GET", seg("repos/{owner}/{repo}/tarball/{ref...}"), false, need{[]string{"contents"}, levelRead}, (*call).getTarball, false},
		{"GET", seg("codeload/{owner}/{repo}/legacy.tar.gz/{ref...}"), false, need{[]string{"contents"}, levelRead}, (*call).getCodeload, false},
		{"GET", seg("repos/{owner}/{repo}/collaborators/{user}/permission"), false, need{[]string{"metadata"}, levelRead}, (*call).getPermission, false},
		{"GET", seg("repos/{owner}/{repo}"), false, need{[]string{"metadata"}, levelRead}, (*call).getRepo, false},
	}
}

func seg(p string) []string { return strings.Split(p, "/") }

// match finds the route for method and path (no leading slash) and its
// path parameters, unescaped.
func match(method, path string) (*route, map[string]string) {
	parts := strings.Split(path, "/")
	for i := range routes {
		rt := &routes[i]
		if rt.method != method {
			continue
		}
		if params, ok := matchPattern(rt.pattern, parts); ok {
			return rt, params
		}
	}
	return nil, nil
}

func matchPattern(pattern, parts []string) (map[string]string, bool) {
	params := map[string]string{}
	for i, p := range pattern {
		if strings.HasSuffix(p, "...}") {
			if i >= len(parts) {
				return nil, false
			}
			rest := strings.Join(parts[i:], "/")
			if v, err := url.PathUnescape(rest); err == nil {
				rest = v
			}
			params[strings.TrimSuffix(p[1:], "...}")] = rest
			return params, true
		}
		if i >= len(parts) {
			return nil, false
		}
		if strings.HasPrefix(p, "{") {
			if parts[i] == "" {
				return nil, false
			}
			v, err := url.PathUnescape(parts[i])
			if err != nil {
				return nil, false
			}
			params[p[1:len(p)-1]] = v
			continue
		}
		if p != parts[i] {
			return nil, false
		}
	}
	return params, len(parts) == len(pattern)
}

// intParam parses a numeric path parameter; GitHub answers 404 for a
// number that does not parse, as for one that does not exist.
func (c *call) intParam(name string) (int64, bool) {
	n, err := strconv.ParseInt(c.params[name], 10, 64)
	if err != nil || n <= 0 {
		c.notFound()
		return 0, false
	}
	return n, true
}

// Messages GitHub uses verbatim; callers and tests match on some of them.
const (
	msgNotFound         = "Not Found"
	msgBadCredentials   = "Bad credentials"
	msgRequiresAuth     = "Requires authentication"
	msgNotAccessible    = "Resource not accessible by integration"
	msgNotAccessiblePAT = "Resource not accessible by personal access token"
	msgBadJWT           = "A JSON web token could not be decoded"
	msgProblemsJSON     = "Problems parsing JSON"
	msgValidation       = "Validation Failed"
	docsURL             = "https://docs.github.com/rest"
)

// apiError is the body of every GitHub error response.
type apiError struct {
	Message          string       `json:"message"`
	Errors           []fieldError `json:"errors,omitempty"`
	DocumentationURL string       `json:"documentation_url"`
	Status           string       `json:"status"`
}

// fieldError is one entry of a 422's errors array.
type fieldError struct {
	Resource string `json:"resource"`
	Code     string `json:"code"`
	Field    string `json:"field,omitempty"`
	Message  string `json:"message,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Message: msg, DocumentationURL: docsURL, Status: strconv.Itoa(status)})
}

func (c *call) notFound() { writeError(c.w, http.StatusNotFound, msgNotFound) }

// invalid answers 422 Validation Failed with one field error.
func (c *call) invalid(resource, field, code, msg string) {
	writeJSON(c.w, http.StatusUnprocessableEntity, apiError{
		Message:          msgValidation,
		Errors:           []fieldError{{Resource: resource, Field: field, Code: code, Message: msg}},
		DocumentationURL: docsURL,
		Status:           "422",
	})
}

// decode parses the JSON request body into v, answering 400 as GitHub does
// when it cannot.
func (c *call) decode(v any) bool {
	if err := json.Unmarshal(c.body, v); err != nil {
		writeError(c.w, http.StatusBadRequest, msgProblemsJSON)
		return false
	}
	return true
}

// readBody reads up to 25 MiB of the request body, GitHub's own ceiling;
// the rest is dropped, which makes oversized bodies fail to parse.
func readBody(r *http.Request) []byte {
	if r.Body == nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 25<<20))
	return b
}
