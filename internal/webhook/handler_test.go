package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hasura-preview/hasura-preview/internal/jobs"
	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
	"github.com/hasura-preview/hasura-preview/internal/webhook"
)

var secret = []byte("test-webhook-secret-7f3a")

type env struct {
	t    *testing.T
	st   *store.Store
	q    *jobs.Client
	srv  *httptest.Server
	reg  *prometheus.Registry
	logs *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type noReconcile struct{}

func (noReconcile) Reconcile(context.Context, string) (time.Duration, error) { return 0, nil }

// newEnv serves the handler over loopback on st; the queue is real but not
// started, so jobs stay countable.
func newEnv(t *testing.T, st *store.Store) *env {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	q, err := jobs.New(st, noReconcile{}, nil, jobs.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, q: q, reg: prometheus.NewPedanticRegistry(), logs: &lockedBuffer{}}
	h, err := webhook.New(webhook.Config{
		Secret: secret, Store: st, Queue: q, AppSlug: "hasura-preview", Registerer: e.reg,
		Logger: slog.New(slog.NewJSONHandler(e.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/webhook", h)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func sqliteEnv(t *testing.T) *env { return newEnv(t, storetest.SQLite(t, store.Options{})) }

func eachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, newEnv(t, b.Open(t, store.Options{}))) })
	}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type delivery struct {
	event, guid string
	body        []byte
	header      map[string]string // extra or overriding headers; "" deletes
}

// send posts d signed with the test secret, as an App delivery.
func (e *env) send(d delivery) (int, map[string]string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/webhook", bytes.NewReader(d.body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", d.event)
	req.Header.Set("X-GitHub-Delivery", d.guid)
	req.Header.Set("X-GitHub-Hook-ID", "109948940")
	req.Header.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	req.Header.Set("X-GitHub-Hook-Installation-Target-ID", "5725")
	req.Header.Set("X-Hub-Signature-256", webhook.Sign(secret, d.body))
	for k, v := range d.header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		e.t.Fatalf("answer is not JSON: %v", err)
	}
	return resp.StatusCode, out
}

func (e *env) expect(d delivery, status int, outcome string) map[string]string {
	e.t.Helper()
	got, body := e.send(d)
	if got != status || body["outcome"] != outcome {
		e.t.Fatalf("%s %s: got %d %v, want %d %s", d.event, d.guid, got, body, status, outcome)
	}
	return body
}

func (e *env) jobs() map[string]int {
	e.t.Helper()
	s, err := e.q.Stats(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) pr(key string) *store.PullRequest {
	e.t.Helper()
	pr, err := e.st.GetPR(context.Background(), key)
	if err != nil {
		e.t.Fatal(err)
	}
	return pr
}

func (e *env) deliveries() []*store.Delivery {
	e.t.Helper()
	d, err := e.st.RecentDeliveries(context.Background(), 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// edit rewrites a pull_request payload: number, head sha and updated_at.
func edit(t testing.TB, body []byte, number int, sha string, updated time.Time) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	pr := m["pull_request"].(map[string]any)
	if number > 0 {
		m["number"], pr["number"] = number, number
	}
	if sha != "" {
		pr["head"].(map[string]any)["sha"] = sha
	}
	if !updated.IsZero() {
		pr["updated_at"] = updated.UTC().Format(time.RFC3339)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

const key = "Codertocat/Hello-World#2"

func TestOpenedIsRecordedAndQueued(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.expect(delivery{event: "pull_request", guid: "g-opened", body: fixture(t, "pull_request.opened.json")}, 202, "accepted")
		pr := e.pr(key)
		if pr.HeadSHA != "ec26c3e57ca3a959ca5aad62de7213c562f8c821" || pr.Branch != "changes" || pr.InstallationID != 1 ||
			pr.Closed || pr.Generation != 1 || pr.Author != "Codertocat" || pr.BaseRef != "master" || len(pr.Labels) != 1 {
			t.Fatalf("recorded %+v", pr)
		}
		if s := e.jobs(); s["available"] != 1 {
			t.Fatalf("jobs: %v", s)
		}
		d := e.deliveries()
		if len(d) != 1 || d[0].Source != "app:5725" || d[0].Outcome != store.OutcomeAccepted || d[0].PRNumber != 2 || d[0].Repo != "Codertocat/Hello-World" {
			t.Fatalf("deliveries: %+v", d)
		}
	})
}

func TestSignatureIsRequired(t *testing.T) {
	e := sqliteEnv(t)
	body := fixture(t, "pull_request.opened.json")
	wrong := webhook.Sign([]byte("another secret"), body)
	sha1 := "sha1=" + strings.Repeat("0", 40)
	for name, sig := range map[string]string{
		"missing": "", "wrong secret": wrong, "sha1": sha1, "not hex": "sha256=" + strings.Repeat("z", 64),
		"truncated": wrong[:20], "no prefix": strings.TrimPrefix(webhook.Sign(secret, body), "sha256="),
	} {
		t.Run(name, func(t *testing.T) {
			e.t = t
			e.expect(delivery{event: "pull_request", guid: "g-" + name, body: body, header: map[string]string{"X-Hub-Signature-256": sig}}, 401, "rejected")
		})
	}
	e.t = t
	// A body tampered with after signing.
	tampered := bytes.Replace(body, []byte(`"opened"`), []byte(`"closed"`), 1)
	e.expect(delivery{event: "pull_request", guid: "g-tampered", body: tampered, header: map[string]string{"X-Hub-Signature-256": webhook.Sign(secret, body)}}, 401, "rejected")
	if _, err := e.st.GetPR(context.Background(), key); err == nil {
		t.Fatal("an unsigned delivery was stored")
	}
	if d := e.deliveries(); len(d) != 0 {
		t.Fatalf("deliveries stored: %+v", d)
	}
	if s := e.jobs(); s["available"] != 0 {
		t.Fatalf("jobs: %v", s)
	}
}

func TestOversizedBodyIs413(t *testing.T) {
	e := sqliteEnv(t)
	body := bytes.Repeat([]byte(" "), 26<<20)
	e.expect(delivery{event: "pull_request", guid: "g-big", body: body}, 413, "rejected")
}

func TestMalformedPayloadsAre400(t *testing.T) {
	e := sqliteEnv(t)
	opened := fixture(t, "pull_request.opened.json")
	cases := map[string]struct {
		event string
		body  []byte
		want  string
	}{
		"truncated":       {"pull_request", opened[:len(opened)/2], "malformed JSON"},
		"no pull_request": {"pull_request", []byte(`{"action":"opened","number":2}`), "pull_request is missing"},
		"number a string": {"pull_request", []byte(`{"action":"opened","pull_request":{"number":"2"}}`), "wrong type"},
		"not an object":   {"issue_comment", []byte(`[1,2,3]`), "wrong type"},
		"no installation": {"installation", []byte(`{"action":"deleted"}`), "installation.id is missing"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e.t = t
			body := e.expect(delivery{event: tc.event, guid: "g-" + name, body: tc.body}, 400, "rejected")
			if !strings.Contains(body["reason"], tc.want) {
				t.Fatalf("reason %q does not say %q", body["reason"], tc.want)
			}
		})
	}
	e.t = t
	if s := e.jobs(); s["available"] != 0 {
		t.Fatalf("jobs: %v", s)
	}
}

func TestDuplicateDeliveryQueuesNothingMore(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		d := delivery{event: "pull_request", guid: "g-dup", body: fixture(t, "pull_request.opened.json")}
		e.expect(d, 202, "accepted")
		e.expect(d, 200, "duplicate")
		e.expect(d, 200, "duplicate")
		if pr := e.pr(key); pr.Generation != 1 {
			t.Fatalf("generation %d after a redelivery", pr.Generation)
		}
		if s := e.jobs(); s["available"] != 1 {
			t.Fatalf("jobs: %v", s)
		}
		if got := e.deliveries(); len(got) != 1 || got[0].Redeliveries != 2 {
			t.Fatalf("deliveries: %+v", got)
		}
	})
}

func TestSameGUIDFromTwoSources(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		opened := fixture(t, "pull_request.opened.json")
		other := edit(t, opened, 3, "", time.Time{})
		e.expect(delivery{event: "pull_request", guid: "g-shared", body: opened}, 202, "accepted")
		e.expect(delivery{event: "pull_request", guid: "g-shared", body: other, header: map[string]string{
			"X-GitHub-Hook-Installation-Target-ID": "9999", "X-GitHub-Hook-ID": "42"}}, 202, "accepted")
		if s := e.jobs(); s["available"] != 2 {
			t.Fatalf("jobs: %v", s)
		}
		// A repository hook (no App headers) is a third source.
		e.expect(delivery{event: "pull_request", guid: "g-shared", body: opened, header: map[string]string{
			"X-GitHub-Hook-Installation-Target-Type": "repository", "X-GitHub-Hook-Installation-Target-ID": "186853002"}}, 202, "accepted")
		sources := map[string]bool{}
		for _, d := range e.deliveries() {
			sources[d.Source] = true
		}
		if !sources["app:5725"] || !sources["app:9999"] || !sources["hook:109948940"] {
			t.Fatalf("sources: %v", sources)
		}
	})
}

func TestLateSynchronizeDoesNotReopen(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.expect(delivery{event: "pull_request", guid: "g1", body: fixture(t, "pull_request.opened.json")}, 202, "accepted")
		e.expect(delivery{event: "pull_request", guid: "g2", body: fixture(t, "pull_request.closed.json")}, 202, "accepted")
		late := edit(t, fixture(t, "pull_request.synchronize.json"), 0, "1111111111111111111111111111111111111111", time.Time{})
		body := e.expect(delivery{event: "pull_request", guid: "g3", body: late}, 202, "accepted")
		if !strings.Contains(body["reason"], "older") {
			t.Fatalf("reason: %v", body)
		}
		pr := e.pr(key)
		if !pr.Closed || pr.HeadSHA == "1111111111111111111111111111111111111111" || pr.Generation != 2 {
			t.Fatalf("after a late synchronize: %+v", pr)
		}
	})
}

func TestBurstOfPushesLeavesOneJob(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		base := fixture(t, "pull_request.synchronize.json")
		t0 := time.Date(2019, 5, 15, 15, 20, 33, 0, time.UTC)
		for i := range 50 {
			body := edit(t, base, 0, fmt.Sprintf("%040x", i+1), t0.Add(time.Duration(i)*time.Second))
			e.expect(delivery{event: "pull_request", guid: fmt.Sprintf("push-%d", i), body: body}, 202, "accepted")
		}
		if s := e.jobs(); s["available"] != 1 {
			t.Fatalf("jobs after 50 pushes: %v", s)
		}
		if pr := e.pr(key); pr.HeadSHA != fmt.Sprintf("%040x", 50) || pr.Generation != 50 {
			t.Fatalf("PR after 50 pushes: sha %s gen %d", pr.HeadSHA, pr.Generation)
		}
	})
}

func TestConcurrentDeliveries(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		base := fixture(t, "pull_request.opened.json")
		const n = 64
		var wg sync.WaitGroup
		errs := make(chan string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// 48 distinct PRs, and 16 more deliveries for PR 1000.
				num := 1000 + i
				if i >= 48 {
					num = 1000
				}
				// One timestamp per PR: equal times all apply, so PR 1000 counts every delivery.
				body := edit(e.t, base, num, fmt.Sprintf("%040x", i+1), time.Date(2020, 1, 1, 0, 0, num-1000, 0, time.UTC))
				req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/webhook", bytes.NewReader(body))
				req.Header.Set("X-GitHub-Event", "pull_request")
				req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("c-%d", i))
				req.Header.Set("X-Hub-Signature-256", webhook.Sign(secret, body))
				resp, err := e.srv.Client().Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 202 {
					errs <- fmt.Sprintf("%d %s", resp.StatusCode, b)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for msg := range errs {
			t.Error(msg)
		}
		if got := len(e.deliveries()); got != n {
			t.Fatalf("%d deliveries recorded, want %d", got, n)
		}
		if s := e.jobs(); s["available"] != 48 {
			t.Fatalf("jobs: %v, want 48", s)
		}
		if pr := e.pr("Codertocat/Hello-World#1000"); pr.Generation != 17 {
			t.Fatalf("PR 1000 generation %d, want 17", pr.Generation)
		}
		if strings.Contains(e.logs.String(), "SQLITE_BUSY") || strings.Contains(e.logs.String(), "database is locked") {
			t.Fatal("SQLite reported busy")
		}
	})
}

func TestUninstallMarksThenForgets(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.expect(delivery{event: "installation", guid: "i1", body: fixture(t, "installation.created.json")}, 202, "accepted")
		e.expect(delivery{event: "pull_request", guid: "p1", body: fixture(t, "pull_request.opened.json")}, 202, "accepted")
		inst, err := e.st.GetInstallation(ctx, 1)
		if err != nil || inst.Account != "Codertocat" || len(inst.Repositories) != 2 {
			t.Fatalf("installation: %+v %v", inst, err)
		}
		if err := e.st.SavePreview(ctx, &store.Preview{Key: key, Status: store.StatusReady}); err != nil {
			t.Fatal(err)
		}
		e.expect(delivery{event: "installation", guid: "i2", body: fixture(t, "installation.deleted.json")}, 202, "accepted")
		pr := e.pr(key)
		if !pr.Uninstalled || pr.Generation != 2 {
			t.Fatalf("PR after uninstall: %+v", pr)
		}
		if live, _ := e.st.ListPreviewsByInstallation(ctx, 1); len(live) != 1 {
			t.Fatalf("the live preview must stay listed until the reconciler deletes it: %d", len(live))
		}
		// The reconciler deletes the preview, then forgets the installation.
		if err := e.q.ForgetInstallation(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.GetPR(ctx, key); err == nil {
			t.Fatal("PR still recorded")
		}
		if s := e.jobs(); s["available"] != 0 || s["cancelled"] != 1 {
			t.Fatalf("jobs after forgetting: %v", s)
		}
	})
}

func TestRepositoryRemovedMarksItsPRs(t *testing.T) {
	e := sqliteEnv(t)
	e.expect(delivery{event: "installation", guid: "i1", body: fixture(t, "installation.created.json")}, 202, "accepted")
	e.expect(delivery{event: "pull_request", guid: "p1", body: fixture(t, "pull_request.opened.json")}, 202, "accepted")
	e.expect(delivery{event: "installation_repositories", guid: "r1", body: fixture(t, "installation_repositories.removed.json")}, 202, "accepted")
	if pr := e.pr(key); !pr.Uninstalled {
		t.Fatal("PR of a removed repository not marked")
	}
	inst, _ := e.st.GetInstallation(context.Background(), 1)
	if len(inst.Repositories) != 1 || inst.Repositories[0] != "Codertocat/Other" {
		t.Fatalf("repositories: %v", inst.Repositories)
	}
}

func TestCommentCommands(t *testing.T) {
	e := sqliteEnv(t)
	e.expect(delivery{event: "issue_comment", guid: "c1", body: fixture(t, "issue_comment.created.rebuild.json")}, 202, "accepted")
	pr := e.pr(key)
	if !pr.RebuildRequested() || pr.Command.Actor != "Codertocat" || pr.Command.CommentID != 492700400 || pr.HeadSHA != "" {
		t.Fatalf("command from a comment before any PR event: %+v %+v", pr, pr.Command)
	}
	if s := e.jobs(); s["available"] != 1 {
		t.Fatalf("jobs: %v", s)
	}
	e.expect(delivery{event: "issue_comment", guid: "c2", body: fixture(t, "issue_comment.created.on_issue.json")}, 202, "ignored")
	if _, err := e.st.GetPR(context.Background(), "Codertocat/Hello-World#1"); err == nil {
		t.Fatal("a comment on an issue made a PR")
	}

	ctx := context.Background()
	if ok, err := e.st.ClearCommand(ctx, key, pr.Command.At); err != nil || !ok {
		t.Fatal(ok, err)
	}
	box := fixture(t, "issue_comment.edited.checkbox.json")
	e.expect(delivery{event: "issue_comment", guid: "c3", body: box}, 202, "accepted")
	if pr := e.pr(key); !pr.RebuildRequested() || pr.Command.Actor != "Codertocat" || pr.Command.CommentID != 1500000001 {
		t.Fatalf("checkbox command: %+v", pr.Command)
	}
	// Our bot clearing the tick, or a box in someone else's comment, does nothing.
	byBot := bytes.Replace(box, []byte(`"sender": {
    "login": "Codertocat"`), []byte(`"sender": {
    "login": "hasura-preview[bot]"`), 1)
	if bytes.Equal(byBot, box) {
		t.Fatal("fixture shape changed: sender not found")
	}
	e.expect(delivery{event: "issue_comment", guid: "c4", body: byBot}, 202, "ignored")
	notOurs := bytes.ReplaceAll(box, []byte("hasura-preview:comment"), []byte("someone-else"))
	e.expect(delivery{event: "issue_comment", guid: "c5", body: notOurs}, 202, "ignored")
	if pr := e.pr(key); pr.Generation != 2 {
		t.Fatalf("generation %d, want 2 (two commands)", pr.Generation)
	}
}

func TestPingAndOtherEvents(t *testing.T) {
	e := sqliteEnv(t)
	body := e.expect(delivery{event: "ping", guid: "p", body: fixture(t, "ping.json")}, 200, "accepted")
	if body["reason"] != "pong" {
		t.Fatalf("ping: %v", body)
	}
	e.expect(delivery{event: "push", guid: "x", body: []byte(`{"ref":"refs/heads/main"}`)}, 202, "ignored")
	assigned := bytes.Replace(fixture(t, "pull_request.opened.json"), []byte(`"action": "opened"`), []byte(`"action": "assigned"`), 1)
	e.expect(delivery{event: "pull_request", guid: "y", body: assigned}, 202, "ignored")
	if s := e.jobs(); s["available"] != 0 {
		t.Fatalf("jobs: %v", s)
	}
	resp, err := http.Get(e.srv.URL + "/webhook")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
}

func TestMetricsAndLogs(t *testing.T) {
	e := sqliteEnv(t)
	opened := fixture(t, "pull_request.opened.json")
	e.expect(delivery{event: "pull_request", guid: "m1", body: opened}, 202, "accepted")
	e.expect(delivery{event: "pull_request", guid: "m1", body: opened}, 200, "duplicate")
	e.expect(delivery{event: "pull_request", guid: "m2", body: opened, header: map[string]string{"X-Hub-Signature-256": "sha256=00"}}, 401, "rejected")
	e.expect(delivery{event: "x-made-up", guid: "m3", body: []byte(`{}`)}, 202, "ignored")

	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	var observed uint64
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "hasura_preview_webhook_deliveries_total":
				l := map[string]string{}
				for _, p := range m.GetLabel() {
					l[p.GetName()] = p.GetValue()
				}
				counts[l["event"]+"/"+l["outcome"]] = m.GetCounter().GetValue()
			case "hasura_preview_webhook_intake_seconds":
				observed += m.GetHistogram().GetSampleCount()
			}
		}
	}
	want := map[string]float64{"pull_request/accepted": 1, "pull_request/duplicate": 1, "pull_request/rejected": 1, "other/ignored": 1}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, counts[k], v, counts)
		}
	}
	if observed != 4 {
		t.Errorf("latency observations %d, want 4", observed)
	}

	logs := e.logs.String()
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d log lines, want one per delivery:\n%s", len(lines), logs)
	}
	if strings.Contains(logs, string(secret)) || strings.Contains(logs, webhook.Sign(secret, opened)) {
		t.Fatal("the secret or a signature reached the logs")
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"event", "action", "repo", "pr", "delivery", "outcome", "duration"} {
		if _, ok := first[k]; !ok {
			t.Errorf("log line lacks %q: %s", k, lines[0])
		}
	}
}

func TestNewRefusesMissingConfig(t *testing.T) {
	st := storetest.SQLite(t, store.Options{})
	q, err := jobs.New(st, noReconcile{}, nil, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]webhook.Config{
		"no secret": {Store: st, Queue: q, AppSlug: "x"},
		"no slug":   {Secret: secret, Store: st, Queue: q},
		"no store":  {Secret: secret, Queue: q, AppSlug: "x"},
	} {
		if _, err := webhook.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
