package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/webhook"
)

// payloads are real GitHub deliveries (octokit/webhooks examples, MIT):
// repository Codertocat/Hello-World, PR 2 from branch "changes",
// installation 1. installation.deleted.json is written in the same shapes.
//
//go:embed payloads/*.json
var payloads embed.FS

// The pull request the bundled payloads describe.
const (
	Owner          = "Codertocat"
	Repo           = "Hello-World"
	PRNumber       = 2
	Branch         = "changes"
	BaseBranch     = "main"
	InstallationID = 1
)

// githubAPI is the API root the bundled payloads' URLs point at.
const githubAPI = "https://api.github.com/"

// PullRequest describes a pull_request delivery, built from the bundled
// payload of the same action with the fields the service reads replaced.
// Zero fields keep the bundled PR's values (BaseRef defaults to
// BaseBranch, where the sandbox keeps the repository's config).
type PullRequest struct {
	Action         string // opened, synchronize, closed or reopened
	Owner, Repo    string
	Number         int
	Title          string
	Branch         string // head ref
	BaseRef        string
	SHA            string // head commit
	Before         string // synchronize: the previous head commit
	UpdatedAt      time.Time
	Merged         bool // closed only
	Draft          bool
	InstallationID int64
	// APIURL replaces https://api.github.com/ in every URL of the payload,
	// so nothing that follows one could reach the real GitHub.
	APIURL string
}

// Payload returns the delivery body.
func (p PullRequest) Payload() ([]byte, error) {
	switch p.Action {
	case "opened", "synchronize", "closed", "reopened":
	default:
		return nil, fmt.Errorf("sandbox: no bundled pull_request payload for action %q", p.Action)
	}
	doc, err := load("pull_request."+p.Action+".json", p.APIURL)
	if err != nil {
		return nil, err
	}
	pr := obj(doc, "pull_request")
	head, base := obj(pr, "head"), obj(pr, "base")
	if p.Owner != "" || p.Repo != "" {
		owner, repo := or(p.Owner, Owner), or(p.Repo, Repo)
		for _, r := range []map[string]any{obj(doc, "repository"), obj(head, "repo"), obj(base, "repo")} {
			r["name"], r["full_name"] = repo, owner+"/"+repo
			obj(r, "owner")["login"] = owner
		}
		head["label"], base["label"] = owner+":"+or(p.Branch, Branch), owner+":"+or(p.BaseRef, BaseBranch)
	}
	for _, r := range []map[string]any{obj(doc, "repository"), obj(head, "repo"), obj(base, "repo")} {
		r["default_branch"] = or(p.BaseRef, BaseBranch)
	}
	if p.Number != 0 {
		doc["number"], pr["number"] = p.Number, p.Number
	}
	if p.Title != "" {
		pr["title"] = p.Title
	}
	if p.Branch != "" {
		head["ref"] = p.Branch
	}
	base["ref"] = or(p.BaseRef, BaseBranch)
	if p.SHA != "" {
		head["sha"] = p.SHA
		if p.Action == "synchronize" {
			doc["after"] = p.SHA
		}
	}
	if p.Before != "" && p.Action == "synchronize" {
		doc["before"] = p.Before
	}
	if !p.UpdatedAt.IsZero() {
		ts := p.UpdatedAt.UTC().Format(time.RFC3339)
		pr["updated_at"] = ts
		if p.Action == "opened" {
			pr["created_at"] = ts
		}
		if p.Action == "closed" {
			pr["closed_at"] = ts
			if p.Merged {
				pr["merged_at"] = ts
			}
		}
	}
	if p.Action == "closed" {
		pr["merged"] = p.Merged
	}
	pr["draft"] = p.Draft
	if p.InstallationID != 0 {
		obj(doc, "installation")["id"] = p.InstallationID
	}
	return json.Marshal(doc)
}

// InstallationDeleted returns an "installation deleted" delivery body for
// installation id on account Codertocat.
func InstallationDeleted(id int64, apiURL string) ([]byte, error) {
	doc, err := load("installation.deleted.json", apiURL)
	if err != nil {
		return nil, err
	}
	obj(doc, "installation")["id"] = id
	return json.Marshal(doc)
}

func load(name, apiURL string) (map[string]any, error) {
	raw, err := payloads.ReadFile("payloads/" + name)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if apiURL != "" {
		if !strings.HasSuffix(apiURL, "/") {
			apiURL += "/"
		}
		raw = bytes.ReplaceAll(raw, []byte(githubAPI), []byte(apiURL))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // ids stay as GitHub wrote them
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("sandbox: decoding %s: %w", name, err)
	}
	return doc, nil
}

// obj returns m[key] as an object, making it when absent so patches never
// hit a nil map.
func obj(m map[string]any, key string) map[string]any {
	if o, ok := m[key].(map[string]any); ok {
		return o
	}
	o := map[string]any{}
	m[key] = o
	return o
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Delivery is one webhook request as GitHub sends it for an App.
type Delivery struct {
	Event string // X-GitHub-Event
	Body  []byte
	// GUID is X-GitHub-Delivery; a random one when empty.
	GUID string
	// AppID fills the App headers (X-GitHub-Hook-Installation-Target-*),
	// which the intake's dedupe keys on.
	AppID int64
}

// Post sends d to url signed with secret and returns the status and body
// of the answer.
func Post(ctx context.Context, hc *http.Client, url string, secret []byte, d Delivery) (int, string, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	guid := d.GUID
	if guid == "" {
		guid = NewGUID()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.Body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/sandbox")
	req.Header.Set("X-GitHub-Event", d.Event)
	req.Header.Set("X-GitHub-Delivery", guid)
	req.Header.Set("X-Hub-Signature-256", webhook.Sign(secret, d.Body))
	if d.AppID != 0 {
		req.Header.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
		req.Header.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(d.AppID, 10))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, strings.TrimSpace(string(b)), err
}

// NewGUID returns a random delivery id in GitHub's UUID shape.
func NewGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// FakeSHA returns a commit id made from s, for pushes the sandbox invents.
func FakeSHA(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
