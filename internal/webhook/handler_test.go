package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
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
	h    *webhook.Handler
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
		Secret: secret, Store: st, Queue: q, BotLogin: "hasura-preview[bot]", Registerer: e.reg,
		Logger: slog.New(slog.NewJSONHandler(e.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	t.Cleanup(func() {
		if err := h.Close(context.Background()); err != nil {
			t.Errorf("closing the handler: %v", err)
		}
	})
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
		// A repository hook (no App headers) is a third source. Its payload
		// differs from the App's (an App's names the installation).
		e.expect(delivery{event: "pull_request", guid: "g-shared", body: edit(t, opened, 4, "", time.Time{}), header: map[string]string{
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
		"no secret":    {Store: st, Queue: q, BotLogin: "x[bot]"},
		"no bot login": {Secret: secret, Store: st, Queue: q},
		"no store":     {Secret: secret, Queue: q, BotLogin: "x[bot]"},
		"no queue":     {Secret: secret, Store: st, BotLogin: "x[bot]"},
	} {
		if _, err := webhook.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
