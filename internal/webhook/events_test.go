package webhook

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hasura-preview/hasura-preview/internal/store"
)

// FuzzDecode feeds arbitrary bodies to the decoder under every event name
// the intake handles: it must never panic, and whatever it accepts must be
// safe to store (a well-formed key, a known kind).
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		event, _, _ := strings.Cut(filepath.Base(name), ".")
		f.Add(event, b)
	}
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		in, err := decode(event, body, "hasura-preview[bot]")
		if err != nil {
			if in != nil {
				t.Fatal("an error and an intent")
			}
			return
		}
		if in.outcome != store.OutcomeAccepted && in.outcome != store.OutcomeIgnored {
			t.Fatalf("outcome %q", in.outcome)
		}
		switch in.kind {
		case kindPullRequest, kindCommand:
			if in.pr == nil || in.pr.Number <= 0 || in.pr.Key != store.PRKey(in.pr.BaseOwner, in.pr.BaseRepo, in.pr.Number) {
				t.Fatalf("bad PR: %+v", in.pr)
			}
			if in.kind == kindPullRequest && (in.pr.HeadSHA == "" || in.pr.EventUpdatedAt.IsZero()) {
				t.Fatalf("PR without sha or time: %+v", in.pr)
			}
			if in.kind == kindCommand && in.command.Kind != store.CommandRebuild && in.command.Kind != store.CommandDelete {
				t.Fatalf("command %q", in.command.Kind)
			}
		case kindInstallUpsert, kindInstallSuspend, kindInstallDelete, kindReposChanged:
			if in.installation == nil || in.installation.ID <= 0 {
				t.Fatalf("installation: %+v", in.installation)
			}
		}
		if in.kind != kindNone && in.outcome != store.OutcomeAccepted {
			t.Fatalf("work with outcome %q", in.outcome)
		}
		if !utf8.ValidString(in.reason) {
			t.Fatalf("reason not UTF-8: %q", in.reason)
		}
	})
}

func TestDecodeFixtures(t *testing.T) {
	cases := []struct {
		file, event string
		kind        kind
		outcome     store.Outcome
	}{
		{"pull_request.opened.json", "pull_request", kindPullRequest, store.OutcomeAccepted},
		{"pull_request.closed.json", "pull_request", kindPullRequest, store.OutcomeAccepted},
		{"pull_request.labeled.json", "pull_request", kindPullRequest, store.OutcomeAccepted},
		{"pull_request.reopened.json", "pull_request", kindPullRequest, store.OutcomeAccepted},
		{"pull_request.synchronize.json", "pull_request", kindPullRequest, store.OutcomeAccepted},
		{"issue_comment.created.rebuild.json", "issue_comment", kindCommand, store.OutcomeAccepted},
		{"issue_comment.created.on_issue.json", "issue_comment", kindNone, store.OutcomeIgnored},
		{"issue_comment.edited.checkbox.json", "issue_comment", kindCommand, store.OutcomeAccepted},
		{"installation.created.json", "installation", kindInstallUpsert, store.OutcomeAccepted},
		{"installation.deleted.json", "installation", kindInstallDelete, store.OutcomeAccepted},
		{"installation_repositories.removed.json", "installation_repositories", kindReposChanged, store.OutcomeAccepted},
		{"ping.json", "watch", kindNone, store.OutcomeIgnored},
	}
	for _, tc := range cases {
		b, err := os.ReadFile(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		in, err := decode(tc.event, b, "hasura-preview[bot]")
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if in.kind != tc.kind || in.outcome != tc.outcome {
			t.Errorf("%s: kind %d outcome %s, want %d %s (%s)", tc.file, in.kind, in.outcome, tc.kind, tc.outcome, in.reason)
		}
	}
	in, _ := decode("pull_request", mustRead(t, "pull_request.closed.json"), "")
	if !in.pr.Closed || in.reopened {
		t.Errorf("closed: %+v", in.pr)
	}
	in, _ = decode("pull_request", mustRead(t, "pull_request.reopened.json"), "")
	if in.pr.Closed || !in.reopened {
		t.Errorf("reopened: %+v", in.pr)
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSlashCommand(t *testing.T) {
	cases := map[string]store.CommandKind{
		"/preview rebuild":                 store.CommandRebuild,
		"  /preview   rebuild  \r\nthanks": store.CommandRebuild,
		"/preview delete":                  store.CommandDelete,
		"/Preview DELETE":                  store.CommandDelete,
		"/preview rebuild now":             "",
		"please /preview rebuild":          "",
		"hello\n/preview rebuild":          "",
		"/preview":                         "",
		"":                                 "",
	}
	for body, want := range cases {
		got, ok := slashCommand(body)
		if got != want || ok != (want != "") {
			t.Errorf("%q: got %q %v, want %q", body, got, ok, want)
		}
	}
}

func TestValidSignature(t *testing.T) {
	body, key := []byte(`{"a":1}`), []byte("k")
	valid := func(header string) bool {
		want, ok := parseSignature(header)
		if !ok {
			return false
		}
		held, err := readBody(bytes.NewReader(body), len(body), key)
		if err != nil {
			t.Fatal(err)
		}
		defer held.release()
		return held.signedBy(want)
	}
	good := Sign(key, body)
	if !valid(good) {
		t.Fatal("a good signature was refused")
	}
	for _, bad := range []string{"", "sha256=", good[:len(good)-1], strings.Replace(good, "sha256", "sha1", 1), strings.ToUpper(good),
		Sign([]byte("other"), body)} {
		if valid(bad) {
			t.Errorf("accepted %q", bad)
		}
	}
}

// TestHeldBody: a body read in pooled chunks comes back whole and with
// its HMAC, whatever its length against the chunk size; a body shorter
// than announced is an error.
func TestHeldBody(t *testing.T) {
	key := []byte("k")
	for _, n := range []int{0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 3*chunkSize + 7} {
		body := make([]byte, n)
		_, _ = rand.Read(body)
		want, _ := parseSignature(Sign(key, body))
		held, err := readBody(bytes.NewReader(body), n, key)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !held.signedBy(want) || !bytes.Equal(held.bytes(), body) {
			t.Errorf("%d bytes: signature %v, same bytes %v", n, held.signedBy(want), bytes.Equal(held.bytes(), body))
		}
		held.release()
	}
	if _, err := readBody(bytes.NewReader(make([]byte, 10)), 11, key); err == nil {
		t.Fatal("a short body was read as whole")
	}
}
