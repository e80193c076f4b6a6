package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
)

func newClock() *clock.Manual { return clock.NewManual(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)) }

func eachBackend(t *testing.T, fn func(t *testing.T, s *store.Store, c *clock.Manual)) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			c := newClock()
			fn(t, b.Open(t, store.Options{Now: c.Now}), c)
		})
	}
}

func samplePR(updated time.Time) *store.PullRequest {
	return &store.PullRequest{
		Key: store.PRKey("Codertocat", "Hello-World", 2), InstallationID: 1,
		BaseOwner: "Codertocat", BaseRepo: "Hello-World", Number: 2,
		HeadOwner: "Codertocat", HeadRepo: "Hello-World", Branch: "changes",
		HeadSHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", BaseRef: "master",
		Title: "Update the README", Author: "Codertocat", Labels: []string{"bug"},
		EventUpdatedAt: updated,
	}
}

func record(t *testing.T, s *store.Store, pr *store.PullRequest, work, reopened bool) bool {
	t.Helper()
	var applied bool
	err := s.WithTx(context.Background(), func(tx *store.Tx) error {
		var err error
		applied, err = tx.RecordPullRequest(context.Background(), pr, work, reopened)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return applied
}

func TestPullRequestOrdering(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store.Store, _ *clock.Manual) {
		ctx := context.Background()
		t0 := time.Date(2019, 5, 15, 15, 20, 33, 0, time.UTC)
		opened := samplePR(t0)
		if !record(t, s, opened, true, false) {
			t.Fatal("first event not applied")
		}
		closed := samplePR(t0.Add(45 * time.Second))
		closed.Closed = true
		if !record(t, s, closed, true, false) {
			t.Fatal("close not applied")
		}
		lateSync := samplePR(t0)
		lateSync.HeadSHA = "0000000000000000000000000000000000000000"
		if record(t, s, lateSync, true, false) {
			t.Fatal("an older synchronize was applied over a close")
		}
		// Same second as the close: still must not reopen it.
		sameSecond := samplePR(closed.EventUpdatedAt)
		if record(t, s, sameSecond, true, false) {
			t.Fatal("an open event with the close's timestamp was applied")
		}
		got, err := s.GetPR(ctx, opened.Key)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Closed || got.HeadSHA != opened.HeadSHA || got.Generation != 2 {
			t.Fatalf("got closed=%v sha=%s gen=%d, want closed, original sha, generation 2", got.Closed, got.HeadSHA, got.Generation)
		}
		if len(got.Labels) != 1 || got.Labels[0] != "bug" || got.InstallationID != 1 || got.Branch != "changes" {
			t.Fatalf("fields not kept: %+v", got)
		}
		// A reopen in the same second is allowed.
		reopen := samplePR(closed.EventUpdatedAt)
		if !record(t, s, reopen, true, true) {
			t.Fatal("reopened not applied")
		}
		if got, _ = s.GetPR(ctx, opened.Key); got.Closed || got.Generation != 3 {
			t.Fatalf("after reopen: closed=%v gen=%d", got.Closed, got.Generation)
		}
		// An event that demands no work updates fields without a generation.
		edit := samplePR(closed.EventUpdatedAt.Add(time.Second))
		edit.Title = "new title"
		record(t, s, edit, false, false)
		if got, _ = s.GetPR(ctx, opened.Key); got.Title != "new title" || got.Generation != 3 {
			t.Fatalf("after edit: title=%q gen=%d", got.Title, got.Generation)
		}
		if _, err := s.GetPR(ctx, "nobody/nothing#1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing PR: %v", err)
		}
		open, err := s.ListOpenPRs(ctx)
		if err != nil || len(open) != 1 {
			t.Fatalf("open PRs: %d, %v", len(open), err)
		}
	})
}

func TestCommands(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store.Store, c *clock.Manual) {
		ctx := context.Background()
		partial := &store.PullRequest{Key: store.PRKey("o", "r", 7), InstallationID: 9, BaseOwner: "o", BaseRepo: "r", Number: 7, Title: "t"}
		cmd := store.Command{Kind: store.CommandRebuild, Actor: "alice", CommentID: 3_000_000_001}
		if err := s.WithTx(ctx, func(tx *store.Tx) error { return tx.RecordCommand(ctx, partial, cmd) }); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetPR(ctx, partial.Key)
		if err != nil {
			t.Fatal(err)
		}
		if !rebuildRequested(got) || got.Command.Actor != "alice" || got.Command.CommentID != cmd.CommentID || got.HeadSHA != "" || got.Generation != 1 {
			t.Fatalf("partial row: %+v cmd %+v", got, got.Command)
		}
		// The first real event fills the head fields and keeps the command.
		full := samplePR(time.Date(2019, 5, 15, 15, 20, 33, 0, time.UTC))
		full.Key, full.BaseOwner, full.BaseRepo, full.Number = partial.Key, "o", "r", 7
		if !record(t, s, full, true, false) {
			t.Fatal("event over a partial row not applied")
		}
		got, _ = s.GetPR(ctx, partial.Key)
		if got.HeadSHA != full.HeadSHA || got.Command == nil || got.Generation != 2 {
			t.Fatalf("after event: %+v", got)
		}
		// A newer command survives clearing the older one.
		at := got.Command.At
		c.Advance(time.Second)
		del := store.Command{Kind: store.CommandDelete, Actor: "bob"}
		if err := s.WithTx(ctx, func(tx *store.Tx) error { return tx.RecordCommand(ctx, partial, del) }); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.ClearCommand(ctx, partial.Key, at); err != nil || ok {
			t.Fatalf("cleared a newer command: %v %v", ok, err)
		}
		got, _ = s.GetPR(ctx, partial.Key)
		if got.Command == nil || got.Command.Kind != store.CommandDelete {
			t.Fatalf("command: %+v", got.Command)
		}
		if ok, err := s.ClearCommand(ctx, partial.Key, got.Command.At); err != nil || !ok {
			t.Fatalf("clear: %v %v", ok, err)
		}
		if got, _ = s.GetPR(ctx, partial.Key); got.Command != nil {
			t.Fatalf("command not cleared: %+v", got.Command)
		}
	})
}

func TestPreviews(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store.Store, c *clock.Manual) {
		ctx := context.Background()
		pr := samplePR(time.Now())
		record(t, s, pr, true, false)
		p := &store.Preview{Key: pr.Key, AppName: "hello-world-pr-2", Status: store.StatusBuilding, RunState: []byte(`{"job":"x"}`), CommentID: 4_000_000_000}
		if err := s.SavePreview(ctx, p); err != nil {
			t.Fatal(err)
		}
		if p.InstallationID != 1 || p.CreatedAt.IsZero() {
			t.Fatalf("installation not filled or created unset: %+v", p)
		}
		created := p.CreatedAt
		c.Advance(time.Hour)
		p.Status, p.Endpoint, p.BuiltGeneration = store.StatusReady, "https://x.hasura.app/v1/graphql", 1
		if err := s.SavePreview(ctx, p); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetPreview(ctx, pr.Key)
		if err != nil {
			t.Fatal(err)
		}
		if !got.CreatedAt.Equal(created) || !got.UpdatedAt.Equal(c.Now()) || got.Status != store.StatusReady ||
			string(got.RunState) != `{"job":"x"}` || got.CommentID != 4_000_000_000 || !got.Active() {
			t.Fatalf("got %+v", got)
		}
		other := &store.Preview{Key: "a/b#1", InstallationID: 5, Status: store.StatusDeleted}
		if err := s.SavePreview(ctx, other); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			f    store.PreviewFilter
			want int
		}{
			{"all", store.PreviewFilter{}, 2},
			{"active", store.PreviewFilter{ActiveOnly: true}, 1},
			{"installation 5", store.PreviewFilter{InstallationID: 5}, 1},
		}
		for _, tc := range cases {
			got, err := s.ListPreviews(ctx, tc.f)
			if err != nil || len(got) != tc.want {
				t.Errorf("%s: got %d (%v), want %d", tc.name, len(got), err, tc.want)
			}
		}
		if n, err := s.CountActivePreviews(ctx, 1); err != nil || n != 1 {
			t.Errorf("active of installation 1: %d %v", n, err)
		}
		if byInst, err := s.ListPreviews(ctx, store.PreviewFilter{InstallationID: 5, ActiveOnly: true}); err != nil || len(byInst) != 0 {
			t.Errorf("deleted previews listed as live: %d %v", len(byInst), err)
		}
		if _, err := s.GetPreview(ctx, "x/y#1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing preview: %v", err)
		}
	})
}

func TestLeases(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store.Store, c *clock.Manual) {
		ctx := context.Background()
		const key = "o/r#1"
		ok, until, err := s.AcquireLease(ctx, key, "a", time.Minute)
		if err != nil || !ok || !until.Equal(c.Now().Add(time.Minute)) {
			t.Fatalf("a: %v %v %v", ok, until, err)
		}
		ok, held, err := s.AcquireLease(ctx, key, "b", time.Minute)
		if err != nil || ok || !held.Equal(until) {
			t.Fatalf("b took a held lease: %v %v %v", ok, held, err)
		}
		c.Advance(time.Minute)
		if ok, _, err := s.AcquireLease(ctx, key, "b", time.Minute); err != nil || !ok {
			t.Fatalf("b after expiry: %v %v", ok, err)
		}
		if err := s.ReleaseLease(ctx, key, "a"); err != nil { // not a's: no effect
			t.Fatal(err)
		}
		if ok, _, _ := s.AcquireLease(ctx, key, "c", time.Minute); ok {
			t.Fatal("a released b's lease")
		}
		if err := s.ReleaseLease(ctx, key, "b"); err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := s.AcquireLease(ctx, key, "c", time.Minute); !ok {
			t.Fatal("c could not take a released lease")
		}
		if n, err := s.BreakAllLeases(ctx); err != nil || n != 1 {
			t.Fatalf("break: %d %v", n, err)
		}
	})
}

func TestLeaseContention(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store.Store, _ *clock.Manual) {
		ctx := context.Background()
		var wg sync.WaitGroup
		wins := make(chan string, 16)
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				owner := string(rune('a' + i))
				ok, _, err := s.AcquireLease(ctx, "o/r#9", owner, time.Minute)
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins <- owner
				}
			}()
		}
		wg.Wait()
		close(wins)
		if n := len(wins); n != 1 {
			t.Fatalf("%d owners got the lease, want 1", n)
		}
	})
}

func TestDeliveries(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store.Store, c *clock.Manual) {
		ctx := context.Background()
		insert := func(source, guid string) bool {
			var ok bool
			err := s.WithTx(ctx, func(tx *store.Tx) error {
				var err error
				ok, err = tx.InsertDelivery(ctx, &store.Delivery{Source: source, GUID: guid, Event: "pull_request", Outcome: store.OutcomeAccepted})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			c.Advance(time.Second)
			return ok
		}
		if !insert("app:1", "g1") || insert("app:1", "g1") || !insert("app:2", "g1") || !insert("app:1", "g2") {
			t.Fatal("dedupe on (source, guid) is wrong")
		}
		recent, err := s.RecentDeliveries(ctx, 10)
		if err != nil || len(recent) != 3 {
			t.Fatalf("recent: %d %v", len(recent), err)
		}
		if recent[0].GUID != "g2" || recent[2].Redeliveries != 1 {
			t.Fatalf("order or redeliveries wrong: %+v %+v", recent[0], recent[2])
		}
		if n, err := s.PruneDeliveries(ctx, 2); err != nil || n != 1 {
			t.Fatalf("prune: %d %v", n, err)
		}
		if n, err := s.PruneDeliveries(ctx, 10); err != nil || n != 0 {
			t.Fatalf("prune with fewer rows than keep: %d %v", n, err)
		}
	})
}

func TestInstallations(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store.Store, _ *clock.Manual) {
		ctx := context.Background()
		pr := samplePR(time.Now())
		record(t, s, pr, true, false)
		pr2 := samplePR(time.Now())
		pr2.Key, pr2.BaseRepo, pr2.HeadRepo = store.PRKey("Codertocat", "Other", 2), "Other", "Other"
		record(t, s, pr2, true, false)
		if err := s.SavePreview(ctx, &store.Preview{Key: pr.Key, Status: store.StatusReady}); err != nil {
			t.Fatal(err)
		}
		err := s.WithTx(ctx, func(tx *store.Tx) error {
			return tx.UpsertInstallation(ctx, &store.Installation{ID: 1, Account: "Codertocat", Repositories: []string{"Codertocat/Hello-World", "Codertocat/Other"}})
		})
		if err != nil {
			t.Fatal(err)
		}
		var removed []string
		err = s.WithTx(ctx, func(tx *store.Tx) error {
			removed, err = tx.MarkReposRemoved(ctx, 1, []string{"Codertocat/Other"})
			return err
		})
		if err != nil || len(removed) != 1 || removed[0] != pr2.Key {
			t.Fatalf("repos removed: %v %v", removed, err)
		}
		inst, err := storetest.Installation(ctx, s, 1)
		if err != nil || len(inst.Repositories) != 1 || inst.Account != "Codertocat" {
			t.Fatalf("installation: %+v %v", inst, err)
		}
		var keys []string
		err = s.WithTx(ctx, func(tx *store.Tx) error {
			keys, err = tx.MarkInstallationDeleted(ctx, 1)
			return err
		})
		if err != nil || len(keys) != 2 {
			t.Fatalf("uninstall: %v %v", keys, err)
		}
		got, _ := s.GetPR(ctx, pr.Key)
		if !got.Uninstalled || got.Generation != 2 {
			t.Fatalf("PR after uninstall: %+v", got)
		}
		live, err := s.ListPreviews(ctx, store.PreviewFilter{InstallationID: 1, ActiveOnly: true})
		if err != nil || len(live) != 1 {
			t.Fatalf("live previews: %d %v", len(live), err)
		}
		forgot, err := s.ForgetInstallation(ctx, 1)
		if err != nil || len(forgot) != 2 {
			t.Fatalf("forget: %v %v", forgot, err)
		}
		if _, err := s.GetPR(ctx, pr.Key); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("PR survived: %v", err)
		}
		if _, err := s.GetPreview(ctx, pr.Key); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("preview survived: %v", err)
		}
		if inst, err := storetest.Installation(ctx, s, 1); err != nil || !inst.Deleted {
			t.Fatalf("installation after forget: %+v %v", inst, err)
		}
	})
}

func TestOpenTwiceIsIdempotent(t *testing.T) {
	path := storetest.SQLitePath(t)
	storetest.Open(t, path, store.Options{}).Close()
	s := storetest.Open(t, "sqlite://"+path, store.Options{})
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestPostgresReplicasMigrateAtOnce(t *testing.T) {
	url := storetest.PostgresURL(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := store.Open(context.Background(), url, store.Options{})
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestPasswordNeverShown(t *testing.T) {
	const secret = "s3cr3t-Pa55"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, url := range []string{
		"postgres://hp:" + secret + "@127.0.0.1:1/db?connect_timeout=2",
		"postgresql://hp:" + secret + "@127.0.0.1:1/db?sslmode=bogus",
		"postgres://hp:" + secret + "@[::1/db",
		"mysql://hp:" + secret + "@127.0.0.1/db",
	} {
		_, err := store.Open(ctx, url, store.Options{})
		if err == nil {
			t.Fatalf("opening %q succeeded", url)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

// TestNULIsDroppedFromText: PostgreSQL's text cannot hold U+0000 and any
// payload field may carry one; the store keeps the rest of the value on both
// backends instead of failing the delivery for good.
func TestNULIsDroppedFromText(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store.Store, c *clock.Manual) {
		pr := samplePR(c.Now())
		pr.Title = "nul\x00byte"
		pr.Labels = []string{"a\x00b"}
		if !record(t, s, pr, true, false) {
			t.Fatal("not applied")
		}
		got, err := s.GetPR(context.Background(), pr.Key)
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != "nulbyte" || len(got.Labels) != 1 || got.Labels[0] != "a\x00b" && got.Labels[0] != "ab" {
			t.Fatalf("stored title %q labels %q", got.Title, got.Labels)
		}
	})
}

// TestInvalidUTF8IsReplacedInText: headers such as X-GitHub-Delivery are not
// signed and may carry stray bytes, which PostgreSQL's text refuses; the
// store replaces them on both backends, so the same header still dedupes.
func TestInvalidUTF8IsReplacedInText(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store.Store, _ *clock.Manual) {
		ctx := context.Background()
		insert := func() bool {
			var ok bool
			err := s.WithTx(ctx, func(tx *store.Tx) error {
				var err error
				ok, err = tx.InsertDelivery(ctx, &store.Delivery{Source: "app:1", GUID: "g\xff1", Event: "push\xfe", Outcome: store.OutcomeIgnored})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !insert() || insert() {
			t.Fatal("a GUID with invalid UTF-8 is not recorded once and then deduplicated")
		}
		got, err := s.RecentDeliveries(ctx, 10)
		if err != nil || len(got) != 1 {
			t.Fatalf("deliveries: %+v %v", got, err)
		}
		if got[0].GUID != "g\uFFFD1" || got[0].Event != "push\uFFFD" {
			t.Fatalf("stored guid %q event %q", got[0].GUID, got[0].Event)
		}
	})
}

// One live pull request per app name: every Cloud create and delete is by
// name, so a second PR with the same name would rebuild, then delete, the
// first one's app.
func TestAppNameClaims(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store.Store, c *clock.Manual) {
		ctx := context.Background()
		const a, b = "acme/shop#7", "evil/shop#7"
		if holder, err := s.ClaimAppName(ctx, "shop-pr-7", a); err != nil || holder != "" {
			t.Fatalf("first claim: %q, %v", holder, err)
		}
		if holder, err := s.ClaimAppName(ctx, "shop-pr-7", a); err != nil || holder != "" {
			t.Fatalf("renewed claim: %q, %v", holder, err)
		}
		// A fresh claim holds before the holder has saved its build (two
		// replicas claiming at once must not both win).
		if holder, err := s.ClaimAppName(ctx, "shop-pr-7", b); err != nil || holder != a {
			t.Fatalf("claim of a fresh claim: %q, %v; want held by %s", holder, err, a)
		}
		if err := s.SavePreview(ctx, &store.Preview{Key: a, AppName: "shop-pr-7", Status: store.StatusBuilding}); err != nil {
			t.Fatal(err)
		}
		if holder, err := s.ClaimAppName(ctx, "shop-pr-7", b); err != nil || holder != a {
			t.Fatalf("claim of a live preview's name: %q, %v; want held by %s", holder, err, a)
		}
		if holder, err := s.ClaimAppName(ctx, "shop-pr-8", b); err != nil || holder != "" {
			t.Fatalf("another name: %q, %v", holder, err)
		}
		// Once a's preview is deleted (and its claim past the grace), the
		// name is free.
		if err := s.SavePreview(ctx, &store.Preview{Key: a, AppName: "shop-pr-7", Status: store.StatusDeleted}); err != nil {
			t.Fatal(err)
		}
		c.Advance(11 * time.Minute)
		if holder, err := s.ClaimAppName(ctx, "shop-pr-7", b); err != nil || holder != "" {
			t.Fatalf("claim after the holder's delete: %q, %v", holder, err)
		}
		if err := s.SavePreview(ctx, &store.Preview{Key: b, AppName: "shop-pr-7", Status: store.StatusReady}); err != nil {
			t.Fatal(err)
		}
		if holder, _ := s.ClaimAppName(ctx, "shop-pr-7", a); holder != b {
			t.Errorf("a took back a name b holds: holder %q", holder)
		}
		// A live preview under another name (its template changed) does
		// not hold its old name.
		if err := s.SavePreview(ctx, &store.Preview{Key: b, AppName: "shop-renamed-7", Status: store.StatusReady}); err != nil {
			t.Fatal(err)
		}
		c.Advance(11 * time.Minute)
		if holder, err := s.ClaimAppName(ctx, "shop-pr-7", a); err != nil || holder != "" {
			t.Errorf("the old name of a renamed preview stays held: %q, %v", holder, err)
		}
	})
}

func rebuildRequested(pr *store.PullRequest) bool {
	return pr.Command != nil && pr.Command.Kind == store.CommandRebuild
}
