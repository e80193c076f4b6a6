package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/webhook"
)

// Group commit: these tests hold the writer (webhook.HoldBatches) so that
// the deliveries they send are recorded in one known batch.

type answer struct {
	status int
	body   map[string]string
	err    error
}

// post sends d in the background; the answer arrives on the channel.
func (e *env) post(ctx context.Context, d delivery) <-chan answer {
	out := make(chan answer, 1)
	go func() {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/webhook", bytes.NewReader(d.body))
		if err != nil {
			out <- answer{err: err}
			return
		}
		req.Header.Set("X-GitHub-Event", d.event)
		req.Header.Set("X-GitHub-Delivery", d.guid)
		req.Header.Set("X-GitHub-Hook-ID", "109948940")
		req.Header.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
		req.Header.Set("X-GitHub-Hook-Installation-Target-ID", "5725")
		req.Header.Set("X-Hub-Signature-256", webhook.Sign(secret, d.body))
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			out <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		a := answer{status: resp.StatusCode}
		a.err = json.NewDecoder(resp.Body).Decode(&a.body)
		out <- a
	}()
	return out
}

func (a answer) is(status int, outcome string) bool {
	return a.err == nil && a.status == status && a.body["outcome"] == outcome
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

// batches reads the batch-size histogram: how many batches were committed
// and how many deliveries they held.
func (e *env) batches() (count uint64, deliveries float64) {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "hasura_preview_webhook_batch_deliveries" {
			h := mf.GetMetric()[0].GetHistogram()
			return h.GetSampleCount(), h.GetSampleSum()
		}
	}
	return 0, 0
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

// sendHeld sends ds one after the other into held lanes, so that they are
// queued in this order, and returns their answer channels.
func (e *env) sendHeld(ctx context.Context, queued func() int, ds ...delivery) []<-chan answer {
	e.t.Helper()
	var out []<-chan answer
	for i, d := range ds {
		out = append(out, e.post(ctx, d))
		waitFor(e.t, fmt.Sprintf("delivery %s to be queued", d.guid), func() bool { return queued() == i+1 })
	}
	return out
}

func TestBatchDuplicateGUID(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		queued, release := webhook.HoldBatches(e.h)
		t.Cleanup(release)
		d := delivery{event: "pull_request", guid: "twice", body: fixture(t, "pull_request.opened.json")}
		as := e.sendHeld(context.Background(), queued, d, d)
		release()
		if a := <-as[0]; !a.is(202, "accepted") {
			t.Errorf("first: %+v", a)
		}
		if a := <-as[1]; !a.is(200, "duplicate") {
			t.Errorf("second of the same GUID in the batch: %+v", a)
		}
		if n, sum := e.batches(); n != 1 || sum != 2 {
			t.Fatalf("%d batches of %v deliveries, want one of 2", n, sum)
		}
		if got := e.deliveries(); len(got) != 1 || got[0].Redeliveries != 1 {
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

func TestBatchDeliveriesOfOnePR(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		queued, release := webhook.HoldBatches(e.h)
		t.Cleanup(release)
		p := pushes(t, 3)
		// In arrival order: the first push, the third, then the second late.
		as := e.sendHeld(context.Background(), queued,
			delivery{event: "pull_request", guid: "p1", body: p[0]},
			delivery{event: "pull_request", guid: "p3", body: p[2]},
			delivery{event: "pull_request", guid: "p2", body: p[1]})
		release()
		for i, a := range as {
			if a := <-a; !a.is(202, "accepted") {
				t.Errorf("delivery %d: %+v", i, a)
			} else if late := strings.Contains(a.body["reason"], "older"); late != (i == 2) {
				t.Errorf("delivery %d: reason %q", i, a.body["reason"])
			}
		}
		if n, sum := e.batches(); n != 1 || sum != 3 {
			t.Fatalf("%d batches of %v deliveries, want one of 3", n, sum)
		}
		if pr := e.pr(key); pr.HeadSHA != fmt.Sprintf("%040x", 3) || pr.Generation != 2 {
			t.Fatalf("PR after the batch: sha %s, generation %d; want the third push, 2", pr.HeadSHA, pr.Generation)
		}
		if s := e.jobs(); s["available"] != 1 {
			t.Fatalf("jobs: %v, want one for the PR", s)
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

func TestBatchPoisonedDelivery(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		poison(t, e.st)
		queued, release := webhook.HoldBatches(e.h)
		t.Cleanup(release)
		p := pushes(t, 4)
		ds := []delivery{
			{event: "pull_request", guid: "good-1", body: p[0]},
			{event: "pull_request", guid: "poison", body: p[1]},
			{event: "pull_request", guid: "good-2", body: p[2]},
		}
		want := []int{202, 500, 202}
		as := e.sendHeld(context.Background(), queued, ds...)
		release()
		for i, a := range as {
			if a := <-a; a.err != nil || a.status != want[i] {
				t.Errorf("%s: %+v, want %d", ds[i].guid, a, want[i])
			}
		}
		if n, sum := e.batches(); n != 1 || int(sum) != len(ds) {
			t.Fatalf("%d batches of %v deliveries, want one of %d", n, sum, len(ds))
		}
		stored := map[string]bool{}
		for _, d := range e.deliveries() {
			stored[d.GUID] = true
		}
		if len(stored) != 2 || !stored["good-1"] || !stored["good-2"] {
			t.Fatalf("stored %v, want the two good ones", stored)
		}
		if pr := e.pr(key); pr.HeadSHA != fmt.Sprintf("%040x", 3) || pr.Generation != 2 {
			t.Fatalf("PR: sha %s, generation %d", pr.HeadSHA, pr.Generation)
		}
		if s := e.jobs(); s["available"] != 1 {
			t.Fatalf("jobs: %v", s)
		}
		if logs := e.logs.String(); !strings.Contains(logs, "one by one") || !strings.Contains(logs, "poisoned delivery") {
			t.Fatalf("the batch failure and the poisoned delivery's error are not logged:\n%s", logs)
		}
	})
}

func TestCancelledRequestDoesNotBlockBatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		queued, release := webhook.HoldBatches(e.h)
		t.Cleanup(release)
		p := pushes(t, 2)
		stays := e.sendHeld(context.Background(), queued, delivery{event: "pull_request", guid: "stays", body: p[0]})
		ctx, cancel := context.WithCancel(context.Background())
		leaves := e.post(ctx, delivery{event: "pull_request", guid: "leaves", body: p[1]})
		waitFor(t, "the second delivery to be queued", func() bool { return queued() == 2 })
		cancel()
		if a := <-leaves; a.err == nil {
			t.Fatalf("the cancelled request was answered: %+v", a)
		}
		// The server notices the closed connection and stops waiting.
		waitFor(t, "the handler to give up", func() bool { return strings.Contains(e.logs.String(), `"delivery":"leaves"`) })
		release()
		if a := <-stays[0]; !a.is(202, "accepted") {
			t.Fatalf("the delivery that stayed: %+v", a)
		}
		if n, sum := e.batches(); n != 1 || sum != 1 {
			t.Fatalf("%d batches of %v deliveries, want one of 1 (the abandoned one skipped)", n, sum)
		}
		if d := e.deliveries(); len(d) != 1 || d[0].GUID != "stays" {
			t.Fatalf("deliveries: %+v", d)
		}
		if logs := e.logs.String(); !strings.Contains(logs, "client went away") {
			t.Fatalf("the abandoned delivery is not logged as such:\n%s", logs)
		}
	})
}

func TestCloseFlushesThenRefuses(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		queued, release := webhook.HoldBatches(e.h)
		t.Cleanup(release)
		base := fixture(t, "pull_request.opened.json")
		var ds []delivery
		for i := range 3 {
			ds = append(ds, delivery{event: "pull_request", guid: fmt.Sprintf("f%d", i), body: edit(t, base, 10+i, "", time.Time{})})
		}
		as := e.sendHeld(context.Background(), queued, ds...)
		closed := make(chan error, 1)
		go func() { closed <- e.h.Close(context.Background()) }()
		waitFor(t, "Close to begin", func() bool { return webhook.Closing(e.h) })
		select {
		case err := <-closed:
			t.Fatalf("Close returned while deliveries were held: %v", err)
		default:
		}
		body := e.expect(delivery{event: "pull_request", guid: "late", body: base}, 503, "error")
		if !strings.Contains(body["reason"], "shutting down") {
			t.Fatalf("after Close: %v", body)
		}
		select {
		case err := <-closed:
			t.Fatalf("Close returned while deliveries were held: %v", err)
		default:
		}
		release()
		if err := <-closed; err != nil {
			t.Fatal(err)
		}
		// Close returns once the held deliveries are recorded and answered.
		if d := e.deliveries(); len(d) != 3 {
			t.Fatalf("%d deliveries stored when Close returned, want 3", len(d))
		}
		for i, a := range as {
			if a := <-a; !a.is(202, "accepted") {
				t.Errorf("delivery %d: %+v", i, a)
			}
		}
		if err := e.h.Close(context.Background()); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	})
}
