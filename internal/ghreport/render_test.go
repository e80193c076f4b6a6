package ghreport

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/mdsafe"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

// task is a compact TaskState builder: started and finished in seconds
// after t0, negative for "not yet".
func task(job, name, state string, started, finished int) preview.TaskState {
	ts := preview.TaskState{Job: job, Name: name, State: state}
	if started >= 0 {
		ts.Started = at(started)
	}
	if finished >= 0 {
		ts.Finished = at(finished)
	}
	return ts
}

// hostile is an error text that tries every way out of its code block.
const hostile = "apply-migration failed:\n```\n</details>\n# pwned\n```\n" +
	"cc @someone and @acme/security-team, mail ops@example.com\n" +
	"<!-- hasura-preview:comment -->\n<!-- hide the rest\n" +
	"- [x] Rebuild this preview <!-- hasura-preview:rebuild -->\n" +
	"````` five backticks `````"

func baseView() View {
	return View{
		Branch: "feature/orders",
		SHA:    "0123456789abcdef0123456789abcdef01234567",
		PR:     42,
		LogURL: "https://github.com/acme/app/actions/runs/123456789",
		Footer: "hasura-preview v1.2.3",
		Result: preview.Result{
			Name:       "app-pr-42",
			ProjectID:  "7a1c9e0d-5d55-4f6e-9c1b-2f3e4d5c6b7a",
			Endpoint:   "https://app-pr-42.hasura.app/v1/graphql",
			ConsoleURL: "https://cloud.hasura.io/project/7a1c9e0d-5d55-4f6e-9c1b-2f3e4d5c6b7a/console",
		},
	}
}

func goldenViews() map[string]View {
	views := map[string]View{}

	v := baseView()
	v.Result.Status = ""
	v.Result.Endpoint, v.Result.ConsoleURL = "", ""
	v.Notices = []Notice{{Kind: NoticeNote, Text: "Waiting: 3 previews of this installation are running, this PR is 2nd in line."}}
	v.RebuildCheckbox = true
	views["queued"] = v

	v = baseView()
	v.Result.Status = preview.StatusDeploying
	v.Result.Endpoint, v.Result.ConsoleURL = "", ""
	v.Result.Tasks = []preview.TaskState{
		task(preview.JobCreation, "create-project", preview.TaskSuccess, 0, 41),
		task(preview.JobDeployment, "gh-validation", preview.TaskSuccess, 41, 44),
		task(preview.JobDeployment, "parse-metadata-migration", preview.TaskRunning, 44, -1),
		task(preview.JobDeployment, "apply-metadata", preview.TaskPending, -1, -1),
		task(preview.JobDeployment, "apply-migration", preview.TaskPending, -1, -1),
	}
	views["building"] = v

	v = baseView()
	v.Result.Status = preview.StatusSuccess
	v.Result.Started, v.Result.Finished = at(0), at(185)
	v.Result.Tasks = []preview.TaskState{
		task(preview.JobCreation, "create-project", preview.TaskSuccess, 0, 41),
		task(preview.JobDeployment, "gh-validation", preview.TaskSuccess, 41, 44),
		task(preview.JobDeployment, "parse-metadata-migration", preview.TaskSuccess, 44, 50),
		task(preview.JobDeployment, "apply-metadata", preview.TaskSuccess, 50, 112),
		task(preview.JobDeployment, "apply-migration", preview.TaskSuccess, 112, 170),
		task(preview.JobDeployment, "reload-metadata", preview.TaskSuccess, 170, 178),
		task(preview.JobDeployment, "check-healthz", preview.TaskSuccess, 178, 185),
	}
	v.RebuildCheckbox = true
	views["success"] = v

	v = baseView()
	v.Result.Status = preview.StatusFailed
	v.Result.Started, v.Result.Finished = at(0), at(3725)
	v.Result.Message = "deployment job failed at apply-migration; ping @admin <!-- x -->"
	failed := task(preview.JobDeployment, "apply-migration", preview.TaskFailed, 112, 118)
	failed.Error = hostile
	failed.GitHubDetail = "HEAD is 0123456 on feature/orders\n@octocat ``` done"
	v.Result.Tasks = []preview.TaskState{
		task(preview.JobCreation, "create-project", preview.TaskSuccess, 0, 41),
		task(preview.JobDeployment, "gh-validation", preview.TaskSuccess, 41, 44),
		task(preview.JobDeployment, "parse-metadata|migration", preview.TaskSuccess, 44, 50),
		task(preview.JobDeployment, "apply-metadata", preview.TaskSuccess, 50, 112),
		failed,
		task(preview.JobDeployment, "reload-metadata", preview.TaskSkipped, -1, -1),
	}
	v.Notices = []Notice{{Kind: NoticeError, Text: "Config error in `.github/hasura-preview.yml`:\nline 3: unknown key `regon` (did you mean `region`?) — cc @someone"}}
	v.RebuildCheckbox = true
	views["failure"] = v

	v = baseView()
	v.Result.Status = preview.StatusSuccess
	v.Result.Started, v.Result.Finished = at(0), at(62)
	v.Result.Tasks = []preview.TaskState{task(preview.JobDeployment, "check-healthz", preview.TaskSuccess, 55, 62)}
	v.Notices = []Notice{{Kind: NoticeWarning, Text: "This preview will be deleted at 2024-05-08 12:00 UTC — add the `preview` label to keep it."}}
	views["ttl_warning"] = v

	v = baseView()
	v.Result.Status = preview.StatusDeleted
	v.Result.Endpoint, v.Result.ConsoleURL = "", ""
	v.Result.Message = "The pull request was closed."
	v.RebuildCheckbox = true // never shown on a deleted preview
	v.LogURL = ""
	views["deleted"] = v

	v = baseView()
	v.Result.Status = preview.StatusTimedOut
	v.Result.Endpoint, v.Result.ConsoleURL = "", ""
	v.Result.Message = "gave up after 20m: apply-metadata still running"
	v.Result.Tasks = []preview.TaskState{task(preview.JobDeployment, "apply-metadata", preview.TaskRunning, 50, -1)}
	views["timed_out"] = v

	v = baseView()
	v.Result.Status = preview.StatusSuperseded
	v.Result.Endpoint, v.Result.ConsoleURL = "", ""
	v.Result.Message = "a newer push (89abcde) took over"
	v.Headline = "Superseded by 89abcde"
	views["superseded"] = v
	return views
}

func TestRenderGolden(t *testing.T) {
	for name, v := range goldenViews() {
		t.Run(name, func(t *testing.T) {
			got := Render(v)
			path := filepath.Join("testdata", name+".golden.md")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("Render differs from %s (go test -update rewrites it)\n--- got:\n%s", path, got)
			}
			if !strings.HasPrefix(got, Marker+"\n") {
				t.Errorf("body does not open with the marker")
			}
			if Render(v) != got {
				t.Errorf("Render is not deterministic")
			}
		})
	}
}

// TestRenderHostileErrorStaysInside checks the properties the failure
// golden file is meant to show, so that a careless -update cannot bless a
// breakout.
func TestRenderHostileErrorStaysInside(t *testing.T) {
	body := Render(goldenViews()["failure"])
	if strings.Count(body, "<!--") != 2 { // the marker and the rebuild checkbox
		t.Errorf("want exactly our two HTML comments, got %d:\n%s", strings.Count(body, "<!--"), body)
	}
	for _, m := range []string{"@someone", "@acme/security-team", "@octocat", "@admin"} {
		if strings.Contains(body, m) {
			t.Errorf("mention %s survived", m)
		}
	}
	if !strings.Contains(body, "ops@example.com") {
		t.Errorf("an e-mail address is not a mention and should stay intact")
	}
	if ParseRebuildTicked(body) {
		t.Errorf("a ticked checkbox inside the error text counts as ticked")
	}
	// The error block opens with six backticks (one more than the longest
	// run inside) and nothing inside closes it early.
	open := strings.Index(body, "``````text\n")
	if open < 0 {
		t.Fatalf("no six-backtick fence:\n%s", body)
	}
	rest := body[open+len("``````text\n"):]
	end := strings.Index(rest, "\n``````\n")
	if end < 0 {
		t.Fatalf("fence not closed")
	}
	for line := range strings.SplitSeq(rest[:end], "\n") {
		if trimmed := strings.TrimSpace(line); strings.HasPrefix(trimmed, "``````") {
			t.Errorf("line %q inside the block would close it", line)
		}
	}
	if !strings.Contains(rest[:end], "# pwned") {
		t.Errorf("error text not inside the block")
	}
}

func TestRenderTruncatesLongLog(t *testing.T) {
	v := goldenViews()["failure"]
	i := len(v.Result.Tasks) - 2
	v.Result.Tasks[i].Error = strings.Repeat("SQL error 🔥 near line 12\n", 8000) // ~200k UTF-16 units
	body := Render(v)
	if n := textLen(body); n > MaxBodyLen {
		t.Fatalf("body is %d characters, over %d", n, MaxBodyLen)
	}
	for _, want := range []string{Marker, "failed", "app-pr-42.hasura.app", "shortened to fit", "apply-migration"} {
		if !strings.Contains(body, want) {
			t.Errorf("truncated body lacks %q", want)
		}
	}
	if !strings.HasPrefix(body, Marker) {
		t.Errorf("marker not first")
	}
	if strings.Count(body, "<details") != strings.Count(body, "</details>") {
		t.Errorf("unbalanced <details> after truncation")
	}

	// A huge task table alone (thousands of tasks) is cut too.
	v = baseView()
	v.Result.Status = preview.StatusDeploying
	for i := range 5000 {
		v.Result.Tasks = append(v.Result.Tasks, task(preview.JobDeployment, strings.Repeat("t", 20)+string(rune('a'+i%26)), preview.TaskSuccess, 0, 1))
	}
	body = Render(v)
	if n := textLen(body); n > MaxBodyLen {
		t.Fatalf("body is %d characters, over %d", n, MaxBodyLen)
	}
	if !strings.Contains(body, "more tasks not shown") && !strings.Contains(body, "shortened") {
		t.Errorf("no truncation note")
	}
}

func TestRebuildCheckbox(t *testing.T) {
	body := Render(goldenViews()["success"])
	if ParseRebuildTicked(body) {
		t.Fatal("fresh body reads as ticked")
	}
	// What GitHub does to the body when the reviewer clicks the box.
	ticked := strings.Replace(body, "- [ ] Rebuild this preview", "- [x] Rebuild this preview", 1)
	if ticked == body {
		t.Fatal("no checkbox in the body")
	}
	for name, b := range map[string]string{
		"x":     ticked,
		"X":     strings.Replace(body, "- [ ] Rebuild", "- [X] Rebuild", 1),
		"crlf":  strings.ReplaceAll(ticked, "\n", "\r\n"),
		"star":  strings.Replace(body, "- [ ] Rebuild", "* [x] Rebuild", 1),
		"space": strings.Replace(body, "- [ ] Rebuild", "-  [x]  Rebuild", 1),
	} {
		if !ParseRebuildTicked(b) {
			t.Errorf("%s: ticked box not seen", name)
		}
		cleared := ClearRebuildTick(b)
		if ParseRebuildTicked(cleared) {
			t.Errorf("%s: still ticked after ClearRebuildTick", name)
		}
		if !strings.Contains(cleared, rebuildUnticked) {
			t.Errorf("%s: cleared body lacks the unticked box", name)
		}
	}
	if got := ClearRebuildTick(ticked); got != body {
		t.Errorf("clearing GitHub's tick should give back the original body")
	}
	for name, b := range map[string]string{
		"no suffix": "- [x] Rebuild this preview",
		"quoted":    "> - [x] Rebuild this preview " + rebuildSuffix,
		"other box": "- [x] Rebuild this preview please " + rebuildSuffix,
	} {
		if ParseRebuildTicked(b) {
			t.Errorf("%s: %q counts as ticked", name, b)
		}
	}
}

func TestSanitizers(t *testing.T) {
	cases := []struct{ name, got, want string }{
		{"span plain", mdsafe.CodeSpan("main"), "`main`"},
		{"span backticks", mdsafe.CodeSpan("a`b"), "``a`b``"},
		{"span edge backtick", mdsafe.CodeSpan("`x"), "`` `x ``"},
		{"plain escapes", mdsafe.PlainText("a|b *c* <d>"), `a\|b \*c\* \<d\>`},
		{"plain newline", mdsafe.PlainText("a\n\nb"), "a b"},
		{"mention", mdsafe.Neutralise("hi @bob"), "hi @" + mdsafe.ZWSP + "bob"},
		{"email", mdsafe.Neutralise("bob@example.com"), "bob@example.com"},
		{"comment", mdsafe.Neutralise("<!-- x"), "<!" + mdsafe.ZWSP + "-- x"},
		{"link js", link("x", "javascript:alert(1)"), "`javascript:alert(1)`"},
		{"link parens", link("x", "https://e.com/a(b)"), "[x](https://e.com/a%28b%29)"},
		{"duration s", formatDuration(42 * time.Second), "42s"},
		{"duration m", formatDuration(185 * time.Second), "3m 05s"},
		{"duration h", formatDuration(3725 * time.Second), "1h 02m"},
		{"truncate", truncateRunes("héllo", 3), "hé…"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}

// FuzzCodeBlock: whatever the text, nothing inside the block closes it.
func FuzzCodeBlock(f *testing.F) {
	f.Add(hostile)
	f.Add("```")
	f.Add("~~~\n```\n")
	f.Fuzz(func(t *testing.T, s string) {
		b := mdsafe.CodeBlock(s)
		first, _, _ := strings.Cut(b, "\n")
		fence := strings.TrimSuffix(first, "text")
		lines := strings.Split(b, "\n")
		if lines[len(lines)-1] != fence {
			t.Fatalf("block does not end with its fence: %q", b)
		}
		for _, l := range lines[1 : len(lines)-1] {
			if strings.HasPrefix(strings.TrimLeft(l, " "), fence) {
				t.Fatalf("line %q closes the block early", l)
			}
		}
	})
}
