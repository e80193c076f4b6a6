package action

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/apireview"
	"github.com/hasura-preview/hasura-preview/internal/ghproject"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

const (
	// apiReviewFirstWait bounds how long the build's first comment waits
	// for the API review, so that it usually shows the review from the start.
	apiReviewFirstWait = 15 * time.Second
	// apiReviewWait bounds how long the end of a run waits for it.
	apiReviewWait = 2 * time.Minute
)

// maxAPIChangesOutput keeps the apiChanges output well inside GitHub's
// limit: "Outputs can be a maximum of 1 MB per job. ... Size is
// approximated based on UTF-16 encoding." (docs, "Passing information
// between jobs"). A larger review is written without its lists.
const maxAPIChangesOutput = 256 << 10

// apiReview is the API review running beside the build.
type apiReview struct {
	done                   chan struct{} // closed once the masked fields below are set
	summary, section, json string
}

// startAPIReview diffs the project at the PR's base and head while the
// preview builds. Base comes through the API (one archive); head from the
// workspace when the checkout holds the head commit, else through the API.
func (r *runner) startAPIReview(ctx context.Context) *apiReview {
	if r.t.Event == nil || r.t.Number == 0 || r.gh == nil {
		return nil
	}
	base := r.t.Event.PullRequest.Base
	baseRef := cmp.Or(base.SHA, base.Ref)
	dir, err := ghproject.CleanDir(r.in.ProjectDir)
	if baseRef == "" || err != nil {
		return nil
	}
	opts := apireview.Options{UnauthorizedRole: preview.EnvValue(r.in.Env, "HASURA_GRAPHQL_UNAUTHORIZED_ROLE")}
	head := ghproject.Side{Ref: r.t.SHA}
	if ws := r.d.Getenv("GITHUB_WORKSPACE"); ws != "" && checkedOut(ws) == r.t.SHA {
		head.FS = noSymlinkFS{root: ws, dir: dir}
	}
	a := &apiReview{done: make(chan struct{})}
	go func() {
		defer close(a.done)
		// A fork's head commit is served by the base repository too.
		rep := ghproject.Review(ctx, r.gh, r.t.BaseOwner, r.t.BaseName, dir,
			ghproject.Side{Ref: baseRef}, head, opts)
		js, err := json.Marshal(rep)
		if len(js) > maxAPIChangesOutput {
			js, err = json.Marshal(rep.Brief())
		}
		if err != nil {
			js = []byte(`{}`)
		}
		a.summary, a.section, a.json = r.secrets.Mask(rep.Summary), r.secrets.Mask(rep.Markdown()), r.secrets.Mask(string(js))
	}()
	return a
}

// finished reports whether the review is over (false with no review).
func (a *apiReview) finished() bool {
	if a == nil {
		return false
	}
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// wait waits for the review, at most d.
func (a *apiReview) wait(ctx context.Context, d time.Duration) {
	if a == nil {
		return
	}
	select {
	case <-a.done:
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// checkedOut returns the commit the workspace's checkout holds, or "".
// actions/checkout leaves HEAD detached at a sha for pull requests.
func checkedOut(ws string) string {
	gitDir := filepath.Join(ws, ".git")
	head, _ := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	h := strings.TrimSpace(string(head))
	ref, isRef := strings.CutPrefix(h, "ref: ")
	if !isRef {
		return h
	}
	if ref != path.Clean(ref) || !strings.HasPrefix(ref, "refs/") {
		return ""
	}
	if b, err := os.ReadFile(filepath.Join(gitDir, filepath.FromSlash(ref))); err == nil {
		return strings.TrimSpace(string(b))
	}
	packed, _ := os.ReadFile(filepath.Join(gitDir, "packed-refs"))
	for line := range strings.SplitSeq(string(packed), "\n") {
		if sha, name, ok := strings.Cut(strings.TrimSpace(line), " "); ok && name == ref {
			return sha
		}
	}
	return ""
}

// noSymlinkFS reads a checkout without following symbolic links, the
// project directory's own included: a link in the pull request to
// /proc/self/environ or a runner file must not end up quoted in the comment.
type noSymlinkFS struct {
	root string // the workspace, trusted
	dir  string // the project directory in it, slash-separated, "" for the root
}

var errSymlink = errors.New("is a symbolic link, not read")

// Open implements fs.FS (fs.ReadDir and fs.Stat go through it too).
func (f noSymlinkFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	rel := path.Join(f.dir, name)
	p := f.root
	if rel == "." {
		return os.Open(p)
	}
	for _, part := range strings.Split(rel, "/") {
		p = filepath.Join(p, part)
		st, err := os.Lstat(p)
		if err != nil {
			return nil, err
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			return nil, &fs.PathError{Op: "open", Path: name, Err: errSymlink}
		}
	}
	return os.Open(p)
}
