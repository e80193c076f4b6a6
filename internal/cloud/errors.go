package cloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
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
	// Op is the GraphQL operation, such as "createGitHubPreviewApp".
	Op string
	// Class is one of the Err* sentinels above.
	Class error
	// Status is the HTTP status, 0 for a network failure.
	Status int
	// Code is the Hasura error code from extensions.code, if any.
	Code string
	// Message is the API's message (or a short description of the body).
	Message string
	// RetryAfter is the server's Retry-After hint, if it gave one.
	RetryAfter time.Duration
	// Err is the underlying error (network, context), if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hasura cloud %s: %s", e.Op, e.Class)
	if e.Status != 0 && e.Status != http.StatusOK {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap lets errors.Is match both the class and the cause (for example
// context.DeadlineExceeded).
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
	ra := parseRetryAfter(header.Get("Retry-After"))
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
	case decodeErr != nil:
		// The Cloud sometimes answers with an HTML page ("If you have just
		// created this project please wait a few moments"): try again later.
		return &Error{Op: op, Class: ErrTransient, Status: status, Message: "answer is not JSON: " + snippet(body)}
	case len(env.Errors) > 0:
		return classifyGraphQL(op, status, env.Errors[0])
	case status != http.StatusOK:
		return &Error{Op: op, Class: ErrAPI, Status: status, Message: snippet(body)}
	case len(env.Data) == 0 || string(env.Data) == "null":
		return &Error{Op: op, Class: ErrTransient, Status: status, Message: "answer has no data"}
	}
	return nil
}

// classifyGraphQL maps a Hasura error to a class. Hasura answers most
// errors with HTTP 200, so the code and message are all there is.
func classifyGraphQL(op string, status int, ge gqlError) *Error {
	e := &Error{Op: op, Status: status, Code: ge.Extensions.Code, Message: ge.Message}
	msg := strings.ToLower(ge.Message)
	switch {
	case ge.Extensions.Code == "access-denied" || ge.Extensions.Code == "invalid-jwt" ||
		ge.Extensions.Code == "invalid-headers" ||
		// Without a valid PAT the request runs as an anonymous role that
		// sees no fields at all: this is how the Cloud says "unauthorized".
		strings.Contains(msg, "not found in type: 'query_root'") ||
		strings.Contains(msg, "not found in type: 'mutation_root'"):
		e.Class = ErrUnauthorized
	case strings.Contains(msg, "quota") || strings.Contains(msg, "limit exceeded") ||
		strings.Contains(msg, "limit reached"):
		e.Class = ErrQuotaExceeded
	case strings.Contains(msg, "hash mismatch") || (ge.Extensions.Code == "conflict" && strings.Contains(msg, "hash")):
		e.Class = ErrHashConflict
	case ge.Extensions.Code == "not-found" || strings.Contains(msg, "does not exist") ||
		// "field 'x' not found in type: 'jobs'" is a query the schema
		// refuses, not a missing object: invalid input, below.
		(strings.Contains(msg, "not found") && !strings.Contains(msg, "not found in type")):
		e.Class = ErrNotFound
	case ge.Extensions.Code == "validation-failed" || ge.Extensions.Code == "parse-failed" ||
		ge.Extensions.Code == "bad-request" || ge.Extensions.Code == "data-exception" ||
		ge.Extensions.Code == "invalid-params" || ge.Extensions.Code == "constraint-violation":
		e.Class = ErrInvalidInput
	default:
		e.Class = ErrAPI
	}
	return e
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

// parseRetryAfter reads the delay form of Retry-After (seconds) and the
// HTTP-date form.
func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var secs int
	if _, err := fmt.Sscanf(v, "%d", &secs); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}
