package preview

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Action is what a pull request event asks of its preview.
type Action string

const (
	// ActionEnsure creates the preview, or rebuilds it from the head commit.
	ActionEnsure Action = "ensure"
	// ActionDestroy deletes the preview; deleting one that is already gone is done.
	ActionDestroy Action = "destroy"
	// ActionSkip leaves the preview as it is.
	ActionSkip Action = "skip"
)

// Plan is the outcome of Decide. Reason is a sentence meant for the person
// reading the log or the pull request comment, so every skip explains itself.
type Plan struct {
	Action Action
	Reason string
}

// Policy holds the rules that decide whether a pull request gets a preview.
// The zero value allows all but forks; DefaultPolicy skips drafts too.
type Policy struct {
	// SkipDrafts keeps draft pull requests without a preview and destroys
	// the preview when a pull request is converted to a draft.
	SkipDrafts bool
	// RequireLabel, when set, is the label (compared case-insensitively, as
	// GitHub does) a pull request must carry to get a preview.
	RequireLabel string
	// ProjectDir is the Hasura project directory relative to the repository
	// root; empty means the root.
	ProjectDir string
	// ChangedFiles lists the pull request's changed paths. Nil means unknown,
	// and an unknown list never filters anything out.
	ChangedFiles []string
	// OnlyWhenDirChanged skips pull requests whose changed files all lie
	// outside ProjectDir.
	OnlyWhenDirChanged bool
	// AllowForks lets pull requests from forks get a preview, which applies
	// migrations nobody with write access has reviewed.
	AllowForks bool
}

// DefaultPolicy returns the policy used when nothing is configured: drafts
// skipped, no label required, no path filter, forks skipped.
func DefaultPolicy() Policy {
	return Policy{SkipDrafts: true}
}

// Event is a pull_request event in the terms Decide needs, converted by
// internal/ghevent or rebuilt from the service's stored state.
type Event struct {
	// Action is the pull_request action: opened, synchronize, closed...
	Action string
	// Closed, Merged and Draft describe the pull request itself.
	Closed, Merged, Draft bool
	// Labels are the pull request's labels.
	Labels []string
	// Label is the label a labeled or unlabeled event added or removed.
	Label string
	// HeadRepo and BaseRepo are "owner/name". HeadRepo is empty when the
	// head repository (a fork) was deleted.
	HeadRepo, BaseRepo string
}

// Decide maps a pull_request event to what should happen to its preview. It
// is pure: everything it needs is in the event and the policy.
func Decide(ev Event, p Policy) Plan {
	switch ev.Action {
	case "closed":
		// Regardless of policy, which may have changed since the build.
		if ev.Merged {
			return Plan{ActionDestroy, "the pull request was merged"}
		}
		return Plan{ActionDestroy, "the pull request was closed"}
	case "unlabeled":
		if p.RequireLabel != "" && strings.EqualFold(ev.Label, p.RequireLabel) {
			return Plan{ActionDestroy, fmt.Sprintf("the %q label was removed", p.RequireLabel)}
		}
		return skip(fmt.Sprintf("removing the label %q does not change a preview", ev.Label))
	case "converted_to_draft":
		if p.SkipDrafts {
			return Plan{ActionDestroy, "the pull request was converted to a draft, and drafts get no preview (set skip-drafts: false to change this)"}
		}
		return skip("converting to a draft does not change a preview when drafts get one")
	case "":
		return skip("the event has no action")
	}
	if reason, ok := ensureReasons[ev.Action]; ok {
		return decideEnsure(ev, p, reason)
	}
	return skip(fmt.Sprintf("action %q does not change a preview", ev.Action))
}

// ensureReasons are the actions that would create or rebuild a preview.
var ensureReasons = map[string]string{
	"opened":           "the pull request was opened",
	"reopened":         "the pull request was reopened",
	"synchronize":      "new commits were pushed",
	"ready_for_review": "the pull request is ready for review",
	"labeled":          "a label was added",
}

// decideEnsure applies the policy to an event that would create or rebuild
// a preview; the reason names the first rule that says no.
func decideEnsure(ev Event, p Policy, reason string) Plan {
	if ev.Closed {
		// A label added to a closed pull request must not bring its
		// preview back.
		return skip("the pull request is closed")
	}
	if ev.HeadRepo == "" {
		return skip("the head repository was deleted, so there is no branch to build a preview from")
	}
	if !strings.EqualFold(ev.HeadRepo, ev.BaseRepo) && !p.AllowForks {
		// Full names compare case-insensitively, as GitHub treats them.
		return skip("pull requests from forks are skipped: their migrations are untrusted code (set allow-forks: true to change this)")
	}
	if p.SkipDrafts && ev.Draft {
		return skip("draft pull requests get no preview (set skip-drafts: false to change this)")
	}
	if p.RequireLabel != "" && !hasLabel(ev, p.RequireLabel) {
		return skip(fmt.Sprintf("the %q label is required", p.RequireLabel))
	}
	if p.OnlyWhenDirChanged && p.ChangedFiles != nil {
		dir := cleanDir(p.ProjectDir)
		if !anyUnder(p.ChangedFiles, dir) {
			if dir == "" {
				return skip("no files changed")
			}
			return skip(fmt.Sprintf("no files under %s/ changed", dir))
		}
	}
	return Plan{ActionEnsure, reason}
}

func skip(reason string) Plan { return Plan{ActionSkip, reason} }

// hasLabel looks at the pull request's labels and the label just added,
// which a trimmed-down payload may leave out of pull_request.labels.
func hasLabel(ev Event, want string) bool {
	return ev.Action == "labeled" && strings.EqualFold(ev.Label, want) ||
		slices.ContainsFunc(ev.Labels, func(l string) bool { return strings.EqualFold(l, want) })
}

// cleanDir turns the forms people write ("./hasura/", "/hasura", ".") into
// a slash-separated path without leading or trailing slash; "" is the root.
func cleanDir(dir string) string {
	dir = strings.ReplaceAll(strings.TrimSpace(dir), `\`, "/")
	return strings.Trim(path.Clean("/"+dir), "/")
}

// anyUnder reports whether some file lies under dir, matching whole path
// segments so that "hasura" covers "hasura/x" but not "hasura2/x".
func anyUnder(files []string, dir string) bool {
	return slices.ContainsFunc(files, func(f string) bool {
		f = strings.TrimPrefix(f, "/")
		return f != "" && (dir == "" || f == dir || strings.HasPrefix(f, dir+"/"))
	})
}

// Repo identifies a preview's branch (Owner and Name: the head repository,
// a fork's for a fork) and its pull request (BaseOwner, BaseName, Number).
type Repo struct {
	Owner     string
	Name      string
	Branch    string
	SHA       string
	Number    int
	BaseOwner string
	BaseName  string
}

// ErrMalformedEvent is wrapped by ghevent.Target's errors so callers can tell a bad
// payload (not worth retrying) from other failures.
var ErrMalformedEvent = errors.New("malformed pull_request event")
