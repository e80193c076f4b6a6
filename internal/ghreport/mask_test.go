package ghreport_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// asRendered undoes what GitHub's renderer undoes for a reader: backslash
// escapes of punctuation, zero-width spaces, folded whitespace.
func asRendered(s string) string {
	s = regexp.MustCompile("\\\\([!-/:-@\\[-`{-~])").ReplaceAllString(s, "$1")
	s = strings.ReplaceAll(s, "\u200b", "")
	return strings.Join(strings.Fields(s), " ")
}

// TestRedactBeforeEscaping: a secret holding Markdown punctuation, an @ or a
// newline is escaped by the renderer, so a redaction that runs only on the
// rendered body misses it and GitHub shows the reader the original. The
// Reporter must redact each text before rendering it.
func TestRedactBeforeEscaping(t *testing.T) {
	secrets := []string{"hunter_2*[pw]#~", "multi-line\nsecret-value", "sec@ret`tick<x>"}
	redact := func(s string) string {
		for _, v := range secrets {
			s = strings.ReplaceAll(s, v, "***")
		}
		return s
	}
	e := newEnv(t, ghsim.Options{})
	r := e.reporter(t, ghreport.WithRedact(redact))
	v := view(preview.StatusFailed,
		preview.TaskState{Job: preview.JobDeployment, Name: "apply-" + secrets[2], State: preview.TaskFailed,
			Error: "auth failed for " + secrets[0], GitHubDetail: "detail " + secrets[1]})
	v.Result.Message = "task failed: " + secrets[0] + " and " + secrets[1] + " and " + secrets[2]
	v.Headline = "built with " + secrets[2]
	v.Notices = []ghreport.Notice{{Kind: ghreport.NoticeError, Text: "config quotes " + secrets[2]}}
	if err := r.Update(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	got := e.marked(ghreport.Marker)
	if len(got) != 1 {
		t.Fatalf("%d comments", len(got))
	}
	shown := asRendered(got[0].Body)
	for _, s := range secrets {
		if strings.Contains(shown, asRendered(s)) {
			t.Errorf("the reader sees secret %q in:\n%s", s, got[0].Body)
		}
	}
	if !strings.Contains(got[0].Body, "auth failed for ***") {
		t.Errorf("the task error lost its redacted text:\n%s", got[0].Body)
	}
	// The step summary renders the same view through the same function.
	if s := asRendered(ghreport.RenderMasked(v, redact)); strings.Contains(s, asRendered(secrets[0])) {
		t.Errorf("RenderMasked shows a secret:\n%s", s)
	}
}

// TestCloudTextIsNotLinked: the Cloud's error text is not ours to format; a
// bare URL in it must not become a link GitHub shows under the bot's name.
func TestCloudTextIsNotLinked(t *testing.T) {
	v := view(preview.StatusFailed, preview.TaskState{Job: preview.JobDeployment,
		Name: "see https://evil.example/login", State: preview.TaskFailed})
	v.Result.Message = "task failed: sign in again at https://evil.example/login or www.evil.example"
	body := ghreport.Render(v)
	seen := 0
	for line := range strings.SplitSeq(body, "\n") {
		if !strings.Contains(line, "evil.example") {
			continue
		}
		seen++
		if strings.HasPrefix(line, "> ") {
			if !strings.HasPrefix(line, "> `") || !strings.HasSuffix(line, "`") {
				t.Errorf("the failure message is not code: %q", line)
			}
			continue
		}
		if outside := regexp.MustCompile("`+[^`]*`+").ReplaceAllString(line, ""); strings.Contains(outside, "https://evil") {
			t.Errorf("a bare URL outside code: %q", line)
		}
	}
	if seen < 2 {
		t.Errorf("the failure message and the task name are not both shown (%d lines):\n%s", seen, body)
	}
}
