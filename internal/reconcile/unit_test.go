package reconcile

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/pgdb"
	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/repoconfig"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	res := repoconfig.Resolved{
		Env: []preview.EnvVar{
			{Key: "HASURA_GRAPHQL_JWT_SECRET", Value: `{"type":"RS256","key":"abc;def"}`},
			{Key: "PLAIN", Value: "visible-value"},
			{Key: "API_TOKEN", Value: "tok"}, // too short to mask
		},
		SecretKeys: []string{"HASURA_GRAPHQL_JWT_SECRET"},
		Postgres:   &pgdb.Config{ServerURI: "postgres://app:p%40ss@db.example:5432/postgres"},
	}
	r := &preview.Masker{}
	r.Set(secretValues(res))
	for _, tt := range []struct{ in, want string }{
		{`jwt {"type":"RS256","key":"abc;def"} bad`, "jwt *** bad"},
		{"visible-value stays", "visible-value stays"},
		{"dial postgres://app:p%40ss@db.example:5432/x", "dial postgres://app:***@db.example:5432/x"},
		{"password p@ss leaked", "password *** leaked"},
		{"token ghs_abcdefghijklmnopqrstuvwxyz0123 used", "token *** used"},
		{"https://x-access-token:anything@github.com/a/b", "https://x-access-token:***@github.com/a/b"},
		{"tok is short", "tok is short"},
	} {
		if got := r.Mask(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestOrdinal(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 102: "102nd", 111: "111th"} {
		if got := ordinal(n); got != want {
			t.Errorf("ordinal(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestStateHoldAndTTL(t *testing.T) {
	t.Parallel()
	built := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &state{BuiltAt: built}
	s.setTTL(48*time.Hour, 12*time.Hour, "keep")
	if !s.ExpiresAt.Equal(built.Add(48*time.Hour)) || !s.WarnAt.Equal(built.Add(36*time.Hour)) {
		t.Fatalf("ttl: %+v", s)
	}
	s.setTTL(48*time.Hour, 72*time.Hour, "keep") // a warning longer than the TTL is no warning
	if !s.WarnAt.IsZero() {
		t.Fatalf("warn at %v", s.WarnAt)
	}
	s.setTTL(0, time.Hour, "keep")
	if !s.ExpiresAt.IsZero() {
		t.Fatal("TTL 0 expires")
	}
	pr := &store.PullRequest{HeadSHA: "a", Labels: []string{"Keep"}}
	s.Hold = &hold{SHA: "a", Kind: holdTTL}
	if s.held(pr, "keep") {
		t.Error("the keep label does not lift a TTL hold")
	}
	s.Hold.Kind = holdCommand
	if !s.held(pr, "keep") {
		t.Error("the keep label lifted a delete command")
	}
	pr.HeadSHA = "b"
	if s.held(pr, "keep") {
		t.Error("a push does not lift the hold")
	}
	if d := decodeState([]byte("{not json")); d.Run != nil || building(&store.Preview{}, d) {
		t.Errorf("unreadable state: %+v", d)
	}
	round := decodeState((&state{Builds: 3, Hold: &hold{SHA: "x"}, QueuedAt: built}).encode())
	if round.Builds != 3 || round.Hold.SHA != "x" || !round.QueuedAt.Equal(built) {
		t.Errorf("round trip: %+v", round)
	}
}

// TestSecretValuesCoverThePasswordAsWritten: the app's database URL keeps
// the server's user info verbatim, so a password with an escape in it must
// be masked in that spelling too.
func TestSecretValuesCoverThePasswordAsWritten(t *testing.T) {
	res := repoconfig.Resolved{Postgres: &pgdb.Config{ServerURI: "postgres://admin:p%40ss%2fword@db.example.com/postgres", EnvVars: []string{"PG_DATABASE_URL"}}}
	values := secretValues(res)
	if !slices.Contains(values, "p%40ss%2fword") || !slices.Contains(values, "p@ss/word") {
		t.Fatalf("secret values %q miss a spelling of the password", values)
	}
}

// TestDecodeOldState: records written before Redo and Hold replaced the
// rebuild, drifted, hold_* and starting fields keep their meaning.
func TestDecodeOldState(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, raw string
		redo      string
		hold      *hold
	}{
		{"rebuild asked", `{"builds":2,"rebuild":true}`, redoAsked, nil},
		{"drifted", `{"builds":2,"drifted":true}`, redoDrifted, nil},
		{"rebuild asked after a drift", `{"rebuild":true,"drifted":true}`, redoAsked, nil},
		{"deleted on request", `{"hold_sha":"abc","hold_kind":"command","hold_by":"alice"}`, "", &hold{SHA: "abc", Kind: holdCommand, By: "alice"}},
		{"expired", `{"hold_sha":"abc","hold_kind":"ttl"}`, "", &hold{SHA: "abc", Kind: holdTTL}},
	} {
		s := decodeState([]byte(tt.raw))
		if s.Redo != tt.redo || !reflect.DeepEqual(s.Hold, tt.hold) {
			t.Errorf("%s: redo %q hold %+v, want %q %+v", tt.name, s.Redo, s.Hold, tt.redo, tt.hold)
		}
	}
	// "starting": a create sent without its job id saved, which the
	// Preview's status now says.
	f := readyFacts()
	f.p.Status, f.s = store.StatusBuilding, decodeState([]byte(`{"build_sha":"bbb","builds":1,"starting":true}`))
	if st := next(f); !building(f.p, f.s) || st.kind != stepStart {
		t.Errorf("an old record of a create in flight: next = %s (%q), want it sent again", st.kind, st.reason)
	}
	old := decodeState([]byte(`{"run":{"result":{"status":"success"}},"build_sha":"abc","builds":3,"reported":"ready@3#","deploy_owed":true,"hold_sha":"abc","hold_kind":"ttl"}`))
	if old.Run == nil || old.BuildSHA != "abc" || old.Builds != 3 || old.Reported != "ready@3#" || !old.DeployOwed {
		t.Errorf("the other fields: %+v", old)
	}
	if again := decodeState(old.encode()); !reflect.DeepEqual(again, old) {
		t.Errorf("re-encoded: %+v, want %+v", again, old)
	}
}

// TestNewStateReadsAsOld: during a rolling upgrade an older replica reads
// the records newer ones write; the pending rebuild and the hold must reach
// it in the fields it knows.
func TestNewStateReadsAsOld(t *testing.T) {
	t.Parallel()
	for _, s := range []*state{
		{Builds: 2, Redo: redoAsked},
		{Builds: 2, Redo: redoDrifted},
		{Hold: &hold{SHA: "abc", Kind: holdCommand, By: "alice"}},
	} {
		var old legacyFields
		if err := json.Unmarshal(s.encode(), &old); err != nil {
			t.Fatal(err)
		}
		want := legacyFields{Rebuild: s.Redo == redoAsked, Drifted: s.Redo == redoDrifted}
		if s.Hold != nil {
			want.HoldSHA, want.HoldKind, want.HoldBy = s.Hold.SHA, s.Hold.Kind, s.Hold.By
		}
		if old != want {
			t.Errorf("%+v reads as %+v to an older replica, want %+v", s, old, want)
		}
		if again := decodeState(s.encode()); !reflect.DeepEqual(again, s) {
			t.Errorf("round trip: %+v, want %+v", again, s)
		}
	}
}
