package cloudsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

const projectsQuery = `{ projects { id } }`

func TestFaultKinds(t *testing.T) {
	cases := []struct {
		fault       Fault
		status      int
		contentType string
		body        string // substring; "" means the body must be empty
		retryAfter  string
	}{
		{Fault{Kind: FaultServerError}, 500, "application/json", `"code":"unexpected"`, ""},
		{Fault{Kind: FaultServerError, Status: 502}, 502, "application/json", `"errors"`, ""},
		{Fault{Kind: FaultServerError, Status: 503}, 503, "application/json", `"errors"`, ""},
		{Fault{Kind: FaultEmptyBody}, 502, "", "", ""},
		{Fault{Kind: FaultEmptyBody, Status: 503}, 503, "", "", ""},
		{Fault{Kind: FaultRateLimit, RetryAfter: 1500 * time.Millisecond}, 429, "application/json", `"errors"`, "2"},
		{Fault{Kind: FaultRateLimit}, 429, "application/json", `"errors"`, "1"},
		{Fault{Kind: FaultHTML}, 200, "text/html", "If you have just created this project please wait a few moments", ""},
		{Fault{Kind: FaultHTML, Status: 503}, 503, "text/html", "If you have just created this project please wait a few moments", ""},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s-%d", c.fault.Kind, c.status), func(t *testing.T) {
			e := newSim(t, nil)
			e.sim.Inject(c.fault)
			status, header, body := e.post("pat "+testPAT, gqlBody{Query: projectsQuery})
			if status != c.status || !strings.HasPrefix(header.Get("Content-Type"), c.contentType) ||
				header.Get("Retry-After") != c.retryAfter {
				t.Errorf("status %d, headers %v", status, header)
			}
			if (c.body == "" && len(body) != 0) || !strings.Contains(string(body), c.body) {
				t.Errorf("body %q", body)
			}
			if c.contentType == "application/json" && !json.Valid(body) {
				t.Errorf("invalid JSON %q", body)
			}
			if e.sim.Count("projects") != 0 || e.sim.Requests("projects") != 1 {
				t.Errorf("faulted request executed: count %d, requests %d", e.sim.Count("projects"), e.sim.Requests("projects"))
			}
			// One-shot: the next request is answered normally.
			e.gql(projectsQuery, nil)
			if got := e.sim.Log()[0].Fault; got != c.fault.Kind {
				t.Errorf("log fault = %q", got)
			}
		})
	}
}

func TestFaultMatchesOpAndCount(t *testing.T) {
	e := newSim(t, nil)
	id := e.create("nulljob-a", nil)
	e.sim.Inject(Fault{Kind: FaultNullJob, Count: 2})
	// Another operation is not affected and does not use up the fault.
	e.gql(projectsQuery, nil)
	for i := range 2 {
		data := e.gql(`query q($id: uuid!) { a: jobs_by_pk(id: $id) { id } projects { id } }`, map[string]any{"id": id})
		if path(t, data, "a") != nil || path(t, data, "projects") == nil {
			t.Errorf("faulted request %d: %v", i, data)
		}
	}
	if e.job(id) == nil {
		t.Error("third request should see the job again")
	}
	if c, r := e.sim.Count("jobs_by_pk"), e.sim.Requests("jobs_by_pk"); c != 1 || r != 3 {
		t.Errorf("Count %d, Requests %d; want 1 and 3", c, r)
	}
	if e.sim.Count("projects") != 3 {
		t.Errorf("Count(projects) = %d", e.sim.Count("projects"))
	}
	e.sim.ResetCounts()
	if len(e.sim.Counts()) != 0 || e.sim.Requests("jobs_by_pk") != 0 {
		t.Error("ResetCounts left counts behind")
	}
}

func TestSlowFault(t *testing.T) {
	e := newSim(t, nil)
	e.sim.Inject(Fault{Kind: FaultSlow, Delay: 10 * time.Millisecond})
	e.gql(projectsQuery, nil)
	if e.sim.Count("projects") != 1 {
		t.Error("a slow answer still executes")
	}

	done := make(chan Record, 1)
	e2 := newSim(t, func(o *Options) { o.OnRequest = func(r Record) { done <- r } })
	e2.sim.Inject(Fault{Kind: FaultSlow, Delay: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e2.url, strings.NewReader(`{"query":"{ projects { id } }"}`))
	req.Header.Set("Authorization", "pat "+testPAT)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	// Cancel once the handler is surely in its sleep: the request counter
	// moves before the fault is applied.
	for e2.sim.Requests("projects") == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("client error = %v", err)
	}
	rec := <-done
	if rec.Fault != FaultSlow || e2.sim.Count("projects") != 0 {
		t.Errorf("abandoned slow request executed: %+v, count %d", rec, e2.sim.Count("projects"))
	}
}

func TestRandomFaults(t *testing.T) {
	kinds := func(rate float64, seed int64) []FaultKind {
		e := newSim(t, nil)
		e.sim.SetRandomFaults(rate, seed)
		for range 40 {
			e.post("pat "+testPAT, gqlBody{Query: projectsQuery})
		}
		var out []FaultKind
		for _, r := range e.sim.Log() {
			out = append(out, r.Fault)
		}
		return out
	}
	all := kinds(1, 7)
	seen := map[FaultKind]bool{}
	for _, k := range all {
		if k == "" || k == FaultNullJob {
			t.Fatalf("rate 1 gave %q", k)
		}
		seen[k] = true
	}
	if len(seen) < 4 {
		t.Errorf("40 random faults used only %v", seen)
	}
	if again := kinds(1, 7); !slices.Equal(all, again) {
		t.Errorf("same seed, different faults:\n%v\n%v", all, again)
	}
	for _, k := range kinds(0, 7) {
		if k != "" {
			t.Errorf("rate 0 gave %q", k)
		}
	}
	half := kinds(0.5, 3)
	n := 0
	for _, k := range half {
		if k != "" {
			n++
		}
	}
	if n == 0 || n == len(half) {
		t.Errorf("rate 0.5 faulted %d of %d", n, len(half))
	}
}

func TestInjectUnknownKindPanics(t *testing.T) {
	e := newSim(t, nil)
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	e.sim.Inject(Fault{Kind: "meteor"})
}

func TestAuthentication(t *testing.T) {
	e := newSim(t, nil)
	// A wrong token is not a 401: the real Cloud answers HTTP 200 with the
	// anonymous role's empty schema (DESIGN.md; the official action tests
	// the message for 'projects' and 'query_root').
	const denied = `{"errors":[{"extensions":{"path":"$.selectionSet.projects","code":"validation-failed"},` +
		`"message":"field \"projects\" not found in type: 'query_root'"}]}`
	for _, auth := range []string{"pat wrong", "Bearer " + testPAT, "pat " + testPAT + "x", "pat"} {
		status, _, body := e.post(auth, gqlBody{Query: projectsQuery})
		if status != 200 || string(body) != denied {
			t.Errorf("%q: %d %s", auth, status, body)
		}
	}
	// The scheme is case-insensitive, as HTTP auth schemes are.
	if status, _, _ := e.post("PAT "+testPAT, gqlBody{Query: projectsQuery}); status != 200 {
		t.Errorf("PAT scheme: %d", status)
	}

	status, _, body := e.post("", gqlBody{Query: `query getProjects($name: String!) { projects(where: {name: {_eq: $name}}) { id } }`,
		Variables: map[string]any{"name": "x"}})
	got := decodeErr(t, status, body)
	if got.Message != `field "projects" not found in type: 'query_root'` || got.Extensions.Code != "validation-failed" {
		t.Errorf("anonymous query: %+v", got)
	}
	status, _, body = e.post("", gqlBody{Query: createMutation, Variables: map[string]any{"name": "x", "token": "y"}})
	got = decodeErr(t, status, body)
	if got.Message != `field "createGitHubPreviewApp" not found in type: 'mutation_root'` {
		t.Errorf("anonymous mutation: %+v", got)
	}
	if e.sim.Count("projects") != 1 || e.sim.Requests("projects") != 6 {
		t.Errorf("count %d, requests %d", e.sim.Count("projects"), e.sim.Requests("projects"))
	}
	for _, r := range e.sim.Log() {
		if strings.Contains(fmt.Sprintf("%#v", r), testPAT) {
			t.Errorf("the PAT leaked into the log: %+v", r)
		}
	}
}

func TestLogCapturesQueryAndVariables(t *testing.T) {
	var hooked []Record
	e := newSim(t, func(o *Options) { o.OnRequest = func(r Record) { hooked = append(hooked, r) } })
	e.create("log-a", nil)
	log := e.sim.Log()
	if len(log) != 1 || len(hooked) != 1 {
		t.Fatalf("log %d, hook %d", len(log), len(hooked))
	}
	r := log[0]
	if strings.Contains(r.Query, "ghp_secret") || !strings.Contains(string(r.Variables), `"token":"ghp_secret"`) ||
		!slices.Equal(r.Ops, []string{"createGitHubPreviewApp"}) || !r.Authorized || r.Status != 200 || !r.Time.Equal(t0) {
		t.Errorf("record = %+v", r)
	}
	e.sim.ResetLog()
	if len(e.sim.Log()) != 0 {
		t.Error("ResetLog kept records")
	}
}

func TestRoutes(t *testing.T) {
	e := newSim(t, nil)
	base := strings.TrimSuffix(e.url, "/v1/graphql")
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get(e.url)
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET graphql: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Post(base+"/graphql", "application/json", strings.NewReader(`{"query":"{__typename}"}`))
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("wrong path: %v %v", resp, err)
	}
	resp.Body.Close()
	small := newSim(t, func(o *Options) { o.MaxBodyBytes = 64 })
	big := `{"query":"` + strings.Repeat(" ", 64) + `{__typename}"}`
	status, _, _ := small.post("pat "+testPAT, big)
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", status)
	}
}

func TestNewRequiresPAT(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New accepted an empty PAT")
	}
}
