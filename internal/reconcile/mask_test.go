package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// punctSecret holds Markdown punctuation, an @ and characters JSON escapes:
// each escaping changes its spelling.
const punctSecret = "adm_1*[x]#~`q@z<b>&c"

// echoSecret fails the first create with an error that quotes the secret,
// as a Cloud validation message may quote the env it was sent.
type echoSecret struct {
	preview.CloudAPI
	failed bool
}

func (c *echoSecret) CreateGitHubPreviewApp(ctx context.Context, in cloud.PreviewApp) (string, error) {
	if !c.failed {
		c.failed = true
		return "", fmt.Errorf("creating preview app: %w: env HASURA_GRAPHQL_ADMIN_SECRET=%s rejected", cloud.ErrTransient, punctSecret)
	}
	return c.CloudAPI.CreateGitHubPreviewApp(ctx, in)
}

// spelledForms are the secret as written and as stored JSON or rendered
// Markdown spell it.
func spelledForms(s string) []string {
	j, _ := json.Marshal(s)
	md := regexp.MustCompile("([\\\\`*_\\[\\]<>|~#&@])").ReplaceAllString(s, `\$1`)
	return []string{s, string(j[1 : len(j)-1]), md, strings.ReplaceAll(s, "@", "@\u200b")}
}

func containsAny(text string, needles []string) bool {
	for _, n := range needles {
		if strings.Contains(text, n) {
			return true
		}
	}
	return false
}

// TestStoredTextIsMasked: the Cloud's error text is stored (last_error, the
// run state the dashboard shows, the job's error) and shown; every copy
// must have the repository's secrets masked, whatever their punctuation.
func TestStoredTextIsMasked(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{config: "directory: hasura\nname: \"{repo}-pr-{pr}\"\nsecrets:\n  HASURA_GRAPHQL_ADMIN_SECRET: PUNCT\n",
		wrapCloud: func(api preview.CloudAPI) preview.CloudAPI { return &echoSecret{CloudAPI: api} }})
	env := map[string]string{repoScope + "PUNCT": punctSecret}
	h.deps.Getenv = func(k string) string { return env[k] }
	h.restart()
	h.cloud.FailTask("shop-pr-7", "apply-migration", "admin secret "+punctSecret+" refused by the database", "")
	forms := spelledForms(punctSecret)

	key := h.open(7, nil)
	err := h.settle(key)
	if err == nil || !errors.Is(err, cloud.ErrTransient) {
		t.Fatalf("want the transient create error (unwrappable), got %v", err)
	}
	if containsAny(err.Error(), forms) {
		t.Errorf("the job's error quotes the secret: %s", err)
	}
	h.mustSettle(key)
	p := h.preview(key)
	if p.LastError == "" || !strings.Contains(p.LastError, "***") {
		t.Fatalf("last_error = %q", p.LastError)
	}
	if containsAny(p.LastError, forms) {
		t.Errorf("last_error stores the secret: %q", p.LastError)
	}
	if containsAny(string(p.RunState), forms) {
		t.Errorf("run_state stores the secret: %s", p.RunState)
	}
	if body := h.sticky(7); containsAny(body, forms) {
		t.Errorf("the comment shows the secret:\n%s", body)
	}
}
