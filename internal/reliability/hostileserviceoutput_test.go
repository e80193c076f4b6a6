package reliability

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/sandbox"
)

// TestHostileServiceOutputs drives the service binary as an attacker
// would (findings 1, 8, 10, 11 and 12 of issue 10). PR 1's repository
// secret is multi-line and full of Markdown punctuation, and the Cloud's
// error quotes it next to a bare link; a participant forged our marker on
// PR 1 and fires refused commands at PR 2. No secret may reach a comment,
// the log or the database file; the forged comment stays untouched; the
// refused commands get one reply and reactions; the build's read tokens
// are revoked; the database file is private.
func TestHostileServiceOutputs(t *testing.T) {
	t.Parallel() // mostly waiting on the subprocess and poll intervals
	const secretVar = "HASURA_PREVIEW_SECRET_CODERTOCAT__HOSTILE"
	dir := t.TempDir()
	w, err := NewWorld(WorldOptions{Bin: builtService(t), Dir: dir, PRs: 2,
		Env: map[string]string{secretVar: hostileJWTSecret, "SECRET_SCOPE": "owner"}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetRepoConfig(1, "directory: hasura\nname: \"{repo}-pr-{pr}\"\nsecrets:\n  HASURA_GRAPHQL_JWT_SECRET: HOSTILE\n")
	w.Cloud.FailTask(w.AppName(1), "apply-migration",
		"could not apply: HASURA_GRAPHQL_JWT_SECRET="+hostileJWTSecret+" is invalid; sign in again at https://evil.example/login",
		"cloning as "+hostileJWTSecret)
	const forged = ghreport.Marker + "\nThe preview moved: https://evil.example/login"
	forgedID := w.GitHub.AddComment(sandbox.Owner, sandbox.Repo, 1, "mallory", forged)

	ctx := context.Background()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ours := func(n int) []ghsim.Comment {
		var out []ghsim.Comment
		for _, c := range w.GitHub.Comments(sandbox.Owner, sandbox.Repo, n) {
			if strings.HasSuffix(c.User, "[bot]") {
				out = append(out, c)
			}
		}
		return out
	}
	sticky := func(n int) string {
		for _, c := range ours(n) {
			if strings.HasPrefix(c.Body, ghreport.Marker) {
				return c.Body
			}
		}
		return ""
	}
	for n := 1; n <= 2; n++ {
		if err := w.Open(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if !waitFor(ctx, 60*time.Second, func() bool { return strings.Contains(sticky(1), "failed") && w.Up(2) }) {
		t.Fatalf("PR 1 did not fail or PR 2 did not build; PR 1: %q", sticky(1))
	}

	reacted := func() int {
		n := 0
		for _, c := range w.GitHub.Comments(sandbox.Owner, sandbox.Repo, 2) {
			for _, r := range c.Reactions {
				if strings.HasSuffix(r.User, "[bot]") && r.Content == "-1" {
					n++
				}
			}
		}
		return n
	}
	replies := func() int {
		n := 0
		for _, c := range ours(2) {
			if strings.Contains(c.Body, "@mallory, only people with write access") {
				n++
			}
		}
		return n
	}
	// Four refused deletes on PR 2, each sent once the previous one was
	// answered (the service keeps one pending command per PR).
	const commands = 4
	for i := range commands {
		if _, err := w.Comment(ctx, 2, "mallory", "/preview delete"); err != nil {
			t.Fatal(err)
		}
		if !waitFor(ctx, 30*time.Second, func() bool { return replies()+reacted() > i }) {
			t.Fatalf("refused command %d not answered within 30 s", i+1)
		}
	}
	time.Sleep(time.Second) // let in-flight writes land
	if n := replies(); n != 1 {
		t.Errorf("%d replies to mallory's four refused commands, want 1", n)
	}
	if n := reacted(); n != commands-1 {
		t.Errorf("%d reactions, want %d", n, commands-1)
	}
	if !w.Up(2) {
		t.Errorf("a refused delete took PR 2's preview down")
	}

	body := sticky(1)
	if bareLinks(body, "evil.example") {
		t.Errorf("the Cloud's URL is a link in our comment:\n%s", body)
	}
	for _, c := range w.GitHub.Comments(sandbox.Owner, sandbox.Repo, 1) {
		if c.ID == forgedID && c.Body != forged {
			t.Errorf("the service edited mallory's comment that forged its marker")
		}
	}
	for _, m := range w.GitHub.MintedTokens() {
		if maps.Equal(m.Permissions, map[string]string{"contents": "read", "metadata": "read"}) && !m.Revoked {
			t.Errorf("the build's read token %s is alive after its build", m.Label)
		}
	}

	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{"service logs": w.Logs()}
	for n := 1; n <= 2; n++ {
		for i, c := range ours(n) {
			texts[fmt.Sprintf("comment %d on PR %d", i, n)] = c.Body
		}
	}
	db := filepath.Join(dir, "service.db")
	for _, f := range []string{db, db + "-wal"} {
		b, err := os.ReadFile(f)
		if err == nil {
			texts[filepath.Base(f)] = string(b)
		}
	}
	secrets := w.Secrets()
	secrets["JWT secret"] = hostileJWTSecret
	leaks, err := ScanSecrets(secrets, texts)
	if err != nil || len(leaks) > 0 {
		t.Errorf("leaks: %v %v", leaks, err)
	}
	if fi, err := os.Stat(db); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("the database file: %v, mode %v; want no access for group and others", err, fi.Mode().Perm())
	}
}
