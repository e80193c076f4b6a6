package jobs

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/store"
)

func enqueueMany(t *testing.T, st *store.Store, c *Client, keys ...string) []Enqueued {
	t.Helper()
	var out []Enqueued
	err := st.WithTx(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = c.EnqueueManyTx(context.Background(), tx, keys)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(keys) {
		t.Fatalf("%d answers for %d keys", len(out), len(keys))
	}
	return out
}

func TestEnqueueManyIsUniquePerPR(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(testing.TB) *store.Store) {
		st := open(t)
		c := newClient(t, st, recFunc(never), nil, testOptions())
		before := enqueue(t, c, "o/r#2")
		got := enqueueMany(t, st, c, "o/r#1", "o/r#2", "o/r#1", "o/r#3")
		if got[0].Duplicate || got[0] != got[2] {
			t.Fatalf("a key twice in one batch: %+v and %+v, want one new job", got[0], got[2])
		}
		if !got[1].Duplicate || got[1].JobID != before.JobID {
			t.Fatalf("a key with a pending job: %+v, want its job %d", got[1], before.JobID)
		}
		if got[3].Duplicate || got[3].JobID == got[0].JobID || got[3].JobID == before.JobID {
			t.Fatalf("a new key: %+v", got[3])
		}
		if s := stats(t, c); s["available"] != 3 {
			t.Fatalf("available jobs: %v, want 3", s)
		}
		if e := enqueue(t, c, "o/r#3"); !e.Duplicate || e.JobID != got[3].JobID {
			t.Fatalf("EnqueueTx after EnqueueManyTx: %+v, want job %d", e, got[3].JobID)
		}
		// Nothing to insert is not an error (a batch of ignored deliveries).
		if none := enqueueMany(t, st, c); len(none) != 0 {
			t.Fatalf("empty batch: %+v", none)
		}
	})
}

func TestEnqueueManyWakesSnoozedJob(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(testing.TB) *store.Store) {
		st := open(t)
		var calls atomic.Int32
		second := make(chan struct{})
		rec := recFunc(func(ctx context.Context, key string) (time.Duration, error) {
			if key == "o/r#1" && calls.Add(1) == 1 {
				return time.Hour, nil
			}
			if key == "o/r#1" {
				close(second)
			}
			return 0, nil
		})
		c := newClient(t, st, rec, nil, testOptions())
		enqueue(t, c, "o/r#1")
		start(t, c)
		eventually(t, "the job to snooze", func() bool { return stats(t, c)["scheduled"] == 1 })
		got := enqueueMany(t, st, c, "o/r#9", "o/r#1")
		if !got[1].Duplicate || !got[1].Woken || got[0].Woken {
			t.Fatalf("batch over a snoozed job: %+v", got)
		}
		select {
		case <-second:
		case <-time.After(30 * time.Second):
			t.Fatal("the snoozed job was not woken")
		}
	})
}
