package cloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/clock"
)

// Error classes. Every error a Client method returns matches exactly one of
// them with errors.Is, so callers decide on the class, never on the text.
var (
	// ErrUnauthorized: the PAT is missing, wrong or lacks the permission.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound: the job, project or tenant does not exist.
	ErrNotFound = errors.New("not found")
	// ErrQuotaExceeded: the account's preview-app quota (60 calls a month on
	// the free tier) or project limit is used up. Retrying will not help.
	ErrQuotaExceeded = errors.New("quota exceeded")
	// ErrHashConflict: updateTenantEnv was given a stale currentHash.
	ErrHashConflict = errors.New("hash conflict")
	// ErrInvalidInput: the API refused the arguments (bad name, bad uuid,
	// a query the schema does not accept).
	ErrInvalidInput = errors.New("invalid input")
	// ErrTransient: 5xx, 429, network failure or a body that is not JSON.
	// Client methods have already retried these until their budget ran out.
	ErrTransient = errors.New("transient failure")
	// ErrAPI: any other error the API answered with.
	ErrAPI = errors.New("api error")
)

// Error is what every Client method returns on failure. It never holds the
// PAT: messages come from the API's answer, which does not echo headers.
type Error struct {
	Op         string        // the GraphQL operation, such as "createGitHubPreviewApp"
	Class      error         // one of the Err* sentinels above
	Status     int           // the HTTP status, 0 for a network failure
	Code       string        // Hasura's extensions.code, if any
	Message    string        // the API's message, or a short description of the body
	RetryAfter time.Duration // the server's Retry-After, if it gave one
	Err        error         // the underlying error (network, context), if any
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("hasura cloud %s: %s", e.Op, e.Class)
	if e.Status != 0 && e.Status != http.StatusOK {
		msg += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap lets errors.Is match both the class and the cause.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Class, e.Err}
	}
	return []error{e.Class}
}

// gqlError is one entry of a GraphQL "errors" array as Hasura sends it.
type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
		Path string `json:"path"`
	} `json:"extensions"`
}

// envelope is the outer shape of every GraphQL answer.
type envelope struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// maxMessage bounds how much of an odd body goes into an error message.
const maxMessage = 200

// classifyHTTP turns an HTTP answer that is not a usable GraphQL envelope
// into an Error, or returns nil when the envelope should be read.
func classifyHTTP(op string, status int, header http.Header, body []byte, env *envelope) *Error {
	ra, _ := clock.RetryAfter(header.Get("Retry-After"), time.Now())
	ra = max(ra, 0)
	decodeErr := json.Unmarshal(body, env)
	switch {
	case status == http.StatusTooManyRequests:
		return &Error{Op: op, Class: ErrTransient, Status: status, Message: "rate limited", RetryAfter: ra}
	case status >= 500:
		return &Error{Op: op, Class: ErrTransient, Status: status, Message: firstMessage(env, body), RetryAfter: ra}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// Before the JSON check: a proxy's HTML 401 is as final as the
		// API's own, and retrying a refused token only wastes time.
		return &Error{Op: op, Class: ErrUnauthorized, Status: status, Code: firstCode(env), Message: firstMessage(env, body)}
	case decodeErr != nil && status >= 400:
		// A page in place of the API (a wrong endpoint's 404): retrying
		// will not change it.
		return &Error{Op: op, Class: ErrAPI, Status: status, Message: "answer is not JSON: " + snippet(body)}
	case decodeErr != nil:
		// The Cloud sometimes answers with an HTML page ("If you have just
		// created this project please wait a few moments"): try again later.
		return &Error{Op: op, Class: ErrTransient, Status: status, Message: "answer is not JSON: " + snippet(body)}
	case len(env.Errors) > 0:
		return classifyGraphQL(op, status, env.Errors[0])
	case status != http.StatusOK:
		return &Error{Op: op, Class: ErrAPI, Status: status, Message: snippet(body)}
	case len(env.Data) == 0 || string(env.Data) == "null":
		// Also {"error": "If you have just created this project…"}: the
		// first-run refusal in a JSON shape of its own (action#91).
		return &Error{Op: op, Class: ErrTransient, Status: status, Message: "answer has no data: " + snippet(body)}
	}
	return nil
}

// warmingUp is the start of the text the Cloud answers while a project it
// has just created is not reachable yet. hasura-cloud-preview-apps#91 shows
// it arriving as a JSON error string on a first run ("Rerun works").
const warmingUp = "if you have just created this project"

// genericServerError is the code of the Cloud's backend failures: "there
// was an internal error while serving your request", with an id.
const genericServerError = "genericservererror"

// classifyGraphQL maps a Hasura error (most come with HTTP 200) to a class
// by its code and message, kept in Message: where the class is a guess,
// the user still reads what the Cloud said.
func classifyGraphQL(op string, status int, ge gqlError) *Error {
	e := &Error{Op: op, Status: status, Code: ge.Extensions.Code, Message: ge.Message}
	msg := strings.ToLower(ge.Message)
	code := strings.ToLower(ge.Extensions.Code)
	switch {
	case IsWarmingUp(msg) || code == genericServerError || code == "internal-error" ||
		containsAny(msg, "internal error while serving your request", "rate limit", "too many requests",
			"deadline exceeded", "timeout", "timed out"):
		e.Class = ErrTransient
	case code == "access-denied" || code == "invalid-jwt" || code == "invalid-headers" ||
		// A wrong or missing PAT is answered with HTTP 200 and the anonymous
		// role's empty schema: field "projects" not found in type:
		// 'query_root' (the official action, src/previewApps.ts, tests for
		// exactly this: 'projects' and 'query_root' in the message).
		strings.Contains(msg, "not found in type: 'query_root'") ||
		strings.Contains(msg, "not found in type: 'mutation_root'"):
		e.Class = ErrUnauthorized
		e.Message = "the Hasura Cloud access token is wrong, expired or lacks access to this operation (the Cloud said: " + ge.Message + ")"
	case code == "quota-exceeded" || containsAny(msg, "quota", "limit exceeded", "limit reached",
		"maximum number of", "upgrade your plan", "too many projects"):
		e.Class = ErrQuotaExceeded
	case containsAny(msg, "hash mismatch", "stale hash") ||
		(strings.Contains(msg, "hash") && (code == "conflict" || containsAny(msg, "changed", "current", "invalid"))):
		e.Class = ErrHashConflict
	case code == "not-found" || strings.Contains(msg, "does not exist") ||
		// "field 'x' not found in type: 'jobs'" is a query the schema
		// refuses, not a missing object: invalid input, below.
		(strings.Contains(msg, "not found") && !strings.Contains(msg, "not found in type")):
		e.Class = ErrNotFound
	case code == "validation-failed" || code == "parse-failed" || code == "bad-request" ||
		code == "data-exception" || code == "invalid-params" || code == "constraint-violation":
		e.Class = ErrInvalidInput
	default:
		e.Class = ErrAPI
	}
	return e
}

// containsAny reports whether s holds one of the phrases: the Cloud's
// texts are undocumented, so each class is known by several wordings.
func containsAny(s string, phrases ...string) bool {
	return slices.ContainsFunc(phrases, func(p string) bool { return strings.Contains(s, p) })
}

// IsWarmingUp reports whether text is the Cloud's "If you have just created
// this project please wait a few moments…" refusal of a first run.
func IsWarmingUp(text string) bool {
	return strings.Contains(strings.ToLower(text), warmingUp)
}

func firstCode(env *envelope) string {
	if len(env.Errors) > 0 {
		return env.Errors[0].Extensions.Code
	}
	return ""
}

func firstMessage(env *envelope, body []byte) string {
	if len(env.Errors) > 0 {
		return env.Errors[0].Message
	}
	return snippet(body)
}

// snippet keeps an odd body readable in an error: one line, bounded.
func snippet(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > maxMessage {
		s = s[:maxMessage] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}
