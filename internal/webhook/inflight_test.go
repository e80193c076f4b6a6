package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/webhook"
)

type answer struct {
	status int
	header http.Header
	body   map[string]string
	err    error
}

func (a answer) is(status int, outcome string) bool {
	return a.err == nil && a.status == status && a.body["outcome"] == outcome
}

// request is a delivery with headers as GitHub sends them and body, whose
// length is declared as length (-1: unknown, sent chunked).
func (e *env) request(ctx context.Context, d delivery, body io.Reader, length int64) *http.Request {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/webhook", body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.ContentLength = length
	h := req.Header
	h.Set("X-GitHub-Event", d.event)
	h.Set("X-GitHub-Delivery", d.guid)
	h.Set("X-GitHub-Hook-ID", "109948940")
	h.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	h.Set("X-GitHub-Hook-Installation-Target-ID", "5725")
	h.Set("X-Hub-Signature-256", webhook.Sign(secret, d.body))
	for k, v := range d.header {
		if v == "" {
			h.Del(k)
		} else {
			h.Set(k, v)
		}
	}
	return req
}

// do sends req in the background; the answer arrives on the channel.
func (e *env) do(req *http.Request) <-chan answer {
	out := make(chan answer, 1)
	go func() {
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			out <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		a := answer{status: resp.StatusCode, header: resp.Header}
		a.err = json.NewDecoder(resp.Body).Decode(&a.body)
		out <- a
	}()
	return out
}

// post sends d with its whole body in the background.
func (e *env) post(ctx context.Context, d delivery) <-chan answer {
	return e.do(e.request(ctx, d, bytes.NewReader(d.body), int64(len(d.body))))
}

// waitFor polls cond; the deadline only guards against a hung test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// await returns the answer, or fails the test when none came while the
// request's body was still unsent: the handler was waiting for it.
func await(t *testing.T, what string, ch <-chan answer) answer {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no answer while its body was unsent (the handler reads the body first)", what)
		return answer{}
	}
}

// pushes returns synchronize payloads for PR 2 at successive seconds, each
// with its own head SHA.
func pushes(t *testing.T, n int) [][]byte {
	base := fixture(t, "pull_request.synchronize.json")
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	out := make([][]byte, n)
	for i := range out {
		out[i] = edit(t, base, 0, fmt.Sprintf("%040x", i+1), t0.Add(time.Duration(i)*time.Second))
	}
	return out
}

// TestRefusedBeforeTheBodyIsRead: what the headers can tell is checked
// before a byte of the body is read, so that an unsigned or oversized
// request costs no memory. Each request's body never arrives: an answer
// proves the handler did not wait for it.
func TestRefusedBeforeTheBodyIsRead(t *testing.T) {
	e := sqliteEnv(t)
	d := delivery{event: "pull_request", guid: "early", body: fixture(t, "pull_request.opened.json")}
	cases := []struct {
		name   string
		header map[string]string
		length int64
		status int
	}{
		{"no signature", map[string]string{"X-Hub-Signature-256": ""}, 20 << 20, 401},
		{"sha1 signature", map[string]string{"X-Hub-Signature-256": "sha1=" + strings.Repeat("0", 40)}, 20 << 20, 401},
		{"no event", map[string]string{"X-GitHub-Event": ""}, 20 << 20, 400},
		{"no delivery GUID", map[string]string{"X-GitHub-Delivery": ""}, 20 << 20, 400},
		{"Content-Length over 25 MiB", nil, 26 << 20, 413},
		{"no Content-Length", nil, -1, 411},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			pr, pw := io.Pipe()
			defer pw.Close()
			dc := d
			dc.header = c.header
			a := await(t, c.name, e.do(e.request(context.Background(), dc, pr, c.length)))
			if !a.is(c.status, "rejected") {
				t.Fatalf("%+v, want %d rejected", a, c.status)
			}
		})
	}
	e.t = t
	if d := e.deliveries(); len(d) != 0 {
		t.Fatalf("stored %+v", d)
	}
}

// TestBytesInFlightAreBounded: bodies are held before their signature can
// be checked, so the bytes held at once are bounded; a request that would
// exceed the bound is answered 503 with Retry-After before its body is
// read, while small deliveries still fit beside a large one.
func TestBytesInFlightAreBounded(t *testing.T) {
	e := sqliteEnv(t)
	const large = 20 << 20
	// A large unsigned body, sent up to its last MiB and then held: the
	// handler has taken most of it, so it is reading, and it holds its bytes.
	pr, pw := io.Pipe()
	defer pw.Close()
	held := e.do(e.request(context.Background(), delivery{event: "pull_request", guid: "held",
		header: map[string]string{"X-Hub-Signature-256": "sha256=" + strings.Repeat("ab", 32)}}, pr, large))
	if _, err := pw.Write(make([]byte, large-1<<20)); err != nil {
		t.Fatal(err)
	}
	// Another large one: it would take the bytes in flight past the bound.
	pr2, pw2 := io.Pipe()
	defer pw2.Close()
	a := await(t, "a second large body", e.do(e.request(context.Background(), delivery{event: "pull_request", guid: "excess",
		header: map[string]string{"X-Hub-Signature-256": "sha256=" + strings.Repeat("cd", 32)}}, pr2, large)))
	if !a.is(http.StatusServiceUnavailable, "error") || a.header.Get("Retry-After") == "" {
		t.Fatalf("second large body: %+v, want 503 with Retry-After", a)
	}
	// A delivery of the usual size still fits.
	if a := <-e.post(context.Background(), delivery{event: "pull_request", guid: "small", body: fixture(t, "pull_request.opened.json")}); !a.is(202, "accepted") {
		t.Fatalf("a small delivery beside the large one: %+v", a)
	}
	// The held one is sent to its end: read, refused as unsigned, and its
	// bytes are free again.
	if _, err := pw.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if a := <-held; !a.is(401, "rejected") {
		t.Fatalf("the held body: %+v", a)
	}
	body := bytes.Repeat([]byte(" "), large)
	a = <-e.post(context.Background(), delivery{event: "pull_request", guid: "after", body: body,
		header: map[string]string{"X-Hub-Signature-256": "sha256=" + strings.Repeat("ef", 32)}})
	if !a.is(401, "rejected") {
		t.Fatalf("a large body once the bytes are free: %+v, want it read and refused as unsigned", a)
	}
}

// TestConcurrentDuplicateGUID: copies of one delivery arriving together are
// recorded once; the others are answered as duplicates.
func TestConcurrentDuplicateGUID(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		d := delivery{event: "pull_request", guid: "twice", body: fixture(t, "pull_request.opened.json")}
		const n = 8
		var as []<-chan answer
		for range n {
			as = append(as, e.post(context.Background(), d))
		}
		accepted, dups := 0, 0
		for _, a := range as {
			switch a := <-a; {
			case a.is(202, "accepted"):
				accepted++
			case a.is(200, "duplicate"):
				dups++
			default:
				t.Errorf("answer %+v", a)
			}
		}
		if accepted != 1 || dups != n-1 {
			t.Fatalf("%d accepted, %d duplicates; want 1 and %d", accepted, dups, n-1)
		}
		if got := e.deliveries(); len(got) != 1 || got[0].Redeliveries != n-1 {
			t.Fatalf("deliveries: %+v", got)
		}
		if pr := e.pr(key); pr.Generation != 1 {
			t.Fatalf("generation %d, want 1", pr.Generation)
		}
		if s := e.jobs(); s["available"] != 1 {
			t.Fatalf("jobs: %v", s)
		}
	})
}

// poison makes the store refuse the delivery with GUID "poison", as a
// database error, not a decoding one.
func poison(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	var err error
	if st.Backend() == store.SQLite {
		_, err = st.DB().ExecContext(ctx, `CREATE TRIGGER poison BEFORE INSERT ON deliveries
WHEN NEW.guid = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned delivery'); END`)
	} else {
		_, err = st.Pool().Exec(ctx, `CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF NEW.guid = 'poison' THEN RAISE EXCEPTION 'poisoned delivery'; END IF; RETURN NEW; END $$;
CREATE TRIGGER poison BEFORE INSERT ON deliveries FOR EACH ROW EXECUTE FUNCTION poison()`)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestStoreFailureLeavesNothing: a delivery the store cannot record is
// answered 500 with nothing of it kept (no PR change, no job), so that
// GitHub's redelivery is processed afresh; deliveries around it are not
// affected.
func TestStoreFailureLeavesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		poison(t, e.st)
		p := pushes(t, 3)
		e.expect(delivery{event: "pull_request", guid: "good-1", body: p[0]}, 202, "accepted")
		e.expect(delivery{event: "pull_request", guid: "poison", body: p[2]}, 500, "error")
		if pr := e.pr(key); pr.HeadSHA != fmt.Sprintf("%040x", 1) || pr.Generation != 1 {
			t.Fatalf("PR after the failed delivery: sha %s, generation %d", pr.HeadSHA, pr.Generation)
		}
		e.expect(delivery{event: "pull_request", guid: "good-2", body: p[1]}, 202, "accepted")
		stored := map[string]bool{}
		for _, d := range e.deliveries() {
			stored[d.GUID] = true
		}
		if len(stored) != 2 || !stored["good-1"] || !stored["good-2"] {
			t.Fatalf("stored %v, want the two good ones", stored)
		}
		if s := e.jobs(); s["available"] != 1 {
			t.Fatalf("jobs: %v", s)
		}
		if logs := e.logs.String(); !strings.Contains(logs, "poisoned delivery") {
			t.Fatalf("the store's error is not logged:\n%s", logs)
		}
	})
}

// TestCloseWaitsThenRefuses: Close refuses new deliveries at once and
// returns once those in flight are recorded and answered.
func TestCloseWaitsThenRefuses(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		body := fixture(t, "pull_request.opened.json")
		// A delivery in flight: all but its last byte sent.
		pr, pw := io.Pipe()
		defer pw.Close()
		inFlight := e.do(e.request(context.Background(), delivery{event: "pull_request", guid: "in-flight", body: body}, pr, int64(len(body))))
		if _, err := pw.Write(body[:len(body)-1]); err != nil {
			t.Fatal(err)
		}
		// The write returns once the transport took the bytes; the
		// handler may not have admitted the request yet.
		time.Sleep(50 * time.Millisecond)
		closed := make(chan error, 1)
		go func() { closed <- e.h.Close(context.Background()) }()
		waitFor(t, "Close to begin", func() bool { return webhook.Closing(e.h) })
		late := e.expect(delivery{event: "pull_request", guid: "late", body: edit(t, body, 9, "", time.Time{})}, 503, "error")
		if !strings.Contains(late["reason"], "shutting down") {
			t.Fatalf("after Close: %v", late)
		}
		select {
		case err := <-closed:
			t.Fatalf("Close returned while a delivery was in flight: %v", err)
		default:
		}
		if _, err := pw.Write(body[len(body)-1:]); err != nil {
			t.Fatal(err)
		}
		if a := <-inFlight; !a.is(202, "accepted") {
			t.Fatalf("the delivery in flight: %+v", a)
		}
		if err := <-closed; err != nil {
			t.Fatal(err)
		}
		if d := e.deliveries(); len(d) != 1 || d[0].GUID != "in-flight" {
			t.Fatalf("deliveries when Close returned: %+v", d)
		}
		if err := e.h.Close(context.Background()); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	})
}
