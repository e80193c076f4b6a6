package reliability

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/sandbox"
)

// commentFixture is a real issue_comment.created delivery on PR 2 of
// Codertocat/Hello-World ("/preview rebuild").
//
//go:embed testdata/issue_comment.created.json
var commentFixture []byte

// Comment has login write body on PR n, in ghsim and as the signed
// issue_comment delivery GitHub would send, and returns the comment's id.
func (w *World) Comment(ctx context.Context, n int, login, body string) (int64, error) {
	repo, inst := w.repoOf(n)
	id := w.GitHub.AddComment(sandbox.Owner, repo, n, login, body)
	var m map[string]any
	if err := json.Unmarshal(commentFixture, &m); err != nil {
		return 0, err
	}
	c := m["comment"].(map[string]any)
	c["id"], c["body"] = id, body
	c["user"].(map[string]any)["login"] = login
	c["author_association"] = "NONE"
	m["sender"].(map[string]any)["login"] = login
	m["issue"].(map[string]any)["number"] = n
	m["repository"].(map[string]any)["name"] = repo
	m["repository"].(map[string]any)["full_name"] = sandbox.Owner + "/" + repo
	m["installation"].(map[string]any)["id"] = inst
	raw, err := json.Marshal(m)
	if err != nil {
		return 0, err
	}
	d := sandbox.Delivery{Event: "issue_comment", Body: raw, AppID: worldAppID}
	status, answer, err := sandbox.Post(ctx, &http.Client{Timeout: 10 * time.Second}, w.URL+"/webhook", []byte(WorldWebhookSecret), d)
	if err != nil {
		return 0, err
	}
	if status != http.StatusAccepted && status != http.StatusOK {
		return 0, fmt.Errorf("comment on PR %d: %d %s", n, status, answer)
	}
	return id, nil
}
