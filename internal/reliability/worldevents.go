package reliability

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/sandbox"
)

// event changes PR n in ghsim the way GitHub would, then delivers the
// matching pull_request event. A delivery that fails because the service is
// down or was killed mid-request is sent again, as a redelivery with the
// same GUID, until it is answered (at most a minute): GitHub's redeliver
// button, pressed promptly.
func (w *World) event(ctx context.Context, n int, action string) error {
	w.mu.Lock()
	w.clock = w.clock.Add(time.Second)
	at := w.clock
	before := w.heads[n]
	if action == "synchronize" {
		w.heads[n] = sandbox.FakeSHA(fmt.Sprintf("pr %d push at %s", n, at))
	}
	sha := w.heads[n]
	w.mu.Unlock()

	repo, inst := w.repoOf(n)
	switch action {
	case "synchronize":
		w.GitHub.UpdatePull(sandbox.Owner, repo, n, func(p *ghsim.PullSpec) { p.HeadSHA = sha })
	case "closed":
		w.GitHub.SetPullState(sandbox.Owner, repo, n, "closed")
	case "reopened":
		w.GitHub.SetPullState(sandbox.Owner, repo, n, "open")
	}
	body, err := sandbox.PullRequest{Action: action, Owner: sandbox.Owner, Repo: repo, Number: n,
		Title: fmt.Sprintf("Change %d", n), Branch: Branch(n), SHA: sha, Before: before, UpdatedAt: at,
		InstallationID: inst, APIURL: w.gitHubURL}.Payload()
	if err != nil {
		return err
	}
	d := sandbox.Delivery{Event: "pull_request", Body: body, GUID: sandbox.NewGUID(), AppID: worldAppID}
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(time.Minute)
	for {
		status, answer, err := sandbox.Post(ctx, client, w.URL+"/webhook", []byte(WorldWebhookSecret), d)
		switch {
		case err == nil && (status == http.StatusAccepted || status == http.StatusOK):
			return nil
		case err == nil && status < 500:
			return fmt.Errorf("PR %d %s: %d %s", n, action, status, answer)
		case ctx.Err() != nil:
			return ctx.Err()
		case time.Now().After(deadline):
			return fmt.Errorf("PR %d %s: not delivered within a minute (last: %d %v)", n, action, status, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Open opens PR n (pull_request "opened").
func (w *World) Open(ctx context.Context, n int) error { return w.event(ctx, n, "opened") }

// Push moves PR n's head to a new commit ("synchronize").
func (w *World) Push(ctx context.Context, n int) error { return w.event(ctx, n, "synchronize") }

// ClosePR closes PR n ("closed").
func (w *World) ClosePR(ctx context.Context, n int) error { return w.event(ctx, n, "closed") }

// Reopen reopens PR n ("reopened").
func (w *World) Reopen(ctx context.Context, n int) error { return w.event(ctx, n, "reopened") }

// Head is PR n's current head commit.
func (w *World) Head(n int) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.heads[n]
}

// botComments returns the service's comments on PR n.
func (w *World) botComments(n int) []ghsim.Comment {
	var out []ghsim.Comment
	repo, _ := w.repoOf(n)
	for _, c := range w.GitHub.Comments(sandbox.Owner, repo, n) {
		if strings.Contains(c.Body, "hasura-preview:comment") {
			out = append(out, c)
		}
	}
	return out
}

// Up reports whether PR n's preview is up at its current head: the app
// exists in the Cloud and the one comment says it is ready for that commit.
func (w *World) Up(n int) bool {
	if _, ok := w.project(n); !ok {
		return false
	}
	cs := w.botComments(n)
	if len(cs) == 0 {
		return false
	}
	last := cs[len(cs)-1].Body
	return strings.Contains(last, "is ready") && strings.Contains(last, w.Head(n)[:7])
}

// Gone reports whether PR n has no app in the Cloud.
func (w *World) Gone(n int) bool {
	_, ok := w.project(n)
	return !ok
}

// project finds PR n's app under the sandbox config's name or, for a
// repository whose config sets no name, under the service's default.
func (w *World) project(n int) (cloudsim.ProjectInfo, bool) {
	repo, _ := w.repoOf(n)
	return w.projectIn(repo, n)
}

// projectIn finds PR n of the sandbox owner's repo under the sandbox
// config's name template or the service's default.
func (w *World) projectIn(repo string, n int) (cloudsim.ProjectInfo, bool) {
	for _, tmpl := range []string{"{repo}-pr-{pr}", preview.ServiceNameTemplate} {
		name, err := preview.AppName(tmpl, preview.NameVars{Owner: sandbox.Owner, Repo: repo, PR: n})
		if err != nil {
			continue
		}
		if p, ok := w.Cloud.Project(name); ok {
			return p, true
		}
	}
	return cloudsim.ProjectInfo{}, false
}

// Problems checks each PR against its desired state (open: up at its
// head; closed: gone) and the whole world for duplicates and orphans: one
// comment per PR at most, no app of a PR outside prs.
func (w *World) Problems(open, closed []int) []string {
	var out []string
	for _, n := range open {
		if !w.Up(n) {
			out = append(out, fmt.Sprintf("PR %d is open but its preview is not up at %s (%s)", n, w.Head(n)[:7], w.describe(n)))
		}
	}
	for _, n := range closed {
		if !w.Gone(n) {
			out = append(out, fmt.Sprintf("PR %d is closed but %s is still in the Cloud (orphan)", n, w.AppName(n)))
		}
	}
	for n := 1; n <= w.opts.PRs; n++ {
		if c := w.botComments(n); len(c) > 1 {
			out = append(out, fmt.Sprintf("PR %d has %d comments from the service", n, len(c)))
		}
	}
	known := map[string]bool{}
	for _, n := range append(append([]int{}, open...), closed...) {
		known[w.AppName(n)] = true
	}
	for _, p := range w.Cloud.Projects() {
		if !known[p.Name] {
			out = append(out, fmt.Sprintf("app %s belongs to no PR of the run (orphan)", p.Name))
		}
	}
	return out
}

func (w *World) describe(n int) string {
	_, exists := w.Cloud.Project(w.AppName(n))
	cs := w.botComments(n)
	first := "no comment"
	if len(cs) > 0 {
		first, _, _ = strings.Cut(strings.TrimPrefix(cs[len(cs)-1].Body, "<!-- hasura-preview:comment -->\n"), "\n")
	}
	return fmt.Sprintf("app exists: %v; comment: %q", exists, first)
}

// SetRepoConfig replaces the .github/hasura-preview.yml on the base branch
// of PR n's repository.
func (w *World) SetRepoConfig(n int, yaml string) {
	repo, _ := w.repoOf(n)
	w.GitHub.SetFile(sandbox.Owner, repo, sandbox.BaseBranch, ".github/hasura-preview.yml", yaml)
}

// SeedPull adds PR n to Codertocat/Hello-World with the given head, for
// deliveries built elsewhere (the hostile table).
func (w *World) SeedPull(n int, branch, sha, title string) {
	w.GitHub.AddPull(sandbox.Owner, sandbox.Repo, ghsim.PullSpec{Number: n, Title: title, User: sandbox.Owner,
		HeadRef: branch, HeadSHA: sha, BaseRef: sandbox.BaseBranch, Files: []string{"hasura/metadata/tables.yaml"}})
}

// Comments returns the service's comments on PR n of Codertocat/Hello-World
// (repo 0) or of PR n's own repository.
func (w *World) Comments(n int) []string {
	var out []string
	for _, c := range w.botComments(n) {
		out = append(out, c.Body)
	}
	return out
}
