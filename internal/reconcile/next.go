package reconcile

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/repoconfig"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

// stepKind names what a pass does next.
type stepKind int

// The steps next can ask for. Those marked "ask again" need a fact that
// costs I/O; the pass fetches it and calls next once more.
const (
	stepSteady     stepKind = iota // the preview is what it should be: show it, maybe warn of the TTL
	stepRemove                     // delete the preview, or keep it deleted, for the step's reason
	stepBadConfig                  // show the configuration's problems and build nothing
	stepListFiles                  // the path filter needs the PR's changed files (ask again)
	stepRename                     // delete the app under its old name first (ask again)
	stepCountSlots                 // take the installation's cap lease and count its slots (ask again)
	stepQueue                      // wait in line for a slot of the cap
	stepStart                      // ask the Cloud for a build of the head
	stepPoll                       // read the running build's job once
	stepUpdateEnv                  // apply a changed env to the live app without a rebuild
)

var stepNames = [...]string{"steady", "remove", "bad config", "list files", "rename", "count slots", "queue", "start", "poll", "update env"}

func (k stepKind) String() string {
	if int(k) < len(stepNames) {
		return stepNames[k]
	}
	return fmt.Sprintf("step(%d)", int(k))
}

// step is next's answer: what to do, and why.
type step struct {
	kind stepKind
	// reason says why; for stepRemove it is the sentence the comment shows.
	reason string
	// ttl carries the expiry marks for the configuration in force, set
	// whenever the configuration was read; the pass stores them.
	ttl *ttlMarks
	// holdTTL (stepRemove) records that the head stays deleted because
	// the preview outlived its TTL.
	holdTTL bool
	// problems (stepBadConfig) are the configuration's problems to show.
	problems *repoconfig.Error
	// recordEnv (stepSteady) notes the env again: a secret rotated, or the
	// secrets the env uses changed, without changing the app.
	recordEnv bool
	// warnTTL (stepSteady) says the TTL warning is due now.
	warnTTL bool
	// running, limit and position (stepQueue) say where the PR waits,
	// and queuedAt since when.
	running, limit, position int
	queuedAt                 time.Time
}

// ttlMarks are the state's expiry fields as the TTL in force sets them.
type ttlMarks struct {
	expiresAt, warnAt time.Time
	keepLabel         string
}

// slotCount is the installation's cap as counted under its lease: the
// previews holding a slot, and those waiting ahead of this PR, which waits
// since queuedAt (now, if it was not waiting yet).
type slotCount struct {
	running, ahead int
	queuedAt       time.Time
}

// facts are what next decides from, all plain values the pass loaded. next
// reads them and changes none of them.
type facts struct {
	pr *store.PullRequest
	p  *store.Preview
	s  *state
	// cfgErr is repoconfig.ErrNotConfigured, a *repoconfig.Error, another
	// error reading the configuration, or nil; res and name are the
	// resolved configuration and app name when it is nil.
	cfgErr error
	res    *repoconfig.Resolved
	name   string
	// ttl and warning are the service's defaults; capacity is the cap per
	// installation (0: none).
	ttl, warning time.Duration
	capacity     int
	// files are the PR's changed paths once listed (filesKnown).
	files      []string
	filesKnown bool
	// slots is the cap's count once taken (nil: not counted).
	slots *slotCount
	// secretsRotated says a service variable the live env came from has
	// changed since it was applied.
	secretsRotated bool
	now            time.Time
}

// next makes every decision of a pass on a PR that is still there and
// installed, in the order doc.go lists: closed, configuration, TTL and
// holds, policy, then building, queueing and keeping the preview current.
// It does no I/O; when a decision needs a fact it does not have, the step
// says which, and the pass asks again with it.
func next(f facts) step {
	pr, p, s := f.pr, f.p, f.s
	if pr.Closed {
		return step{kind: stepRemove, reason: closedReason(pr)}
	}
	var ce *repoconfig.Error
	switch {
	case errors.Is(f.cfgErr, repoconfig.ErrNotConfigured):
		return step{kind: stepRemove, reason: fmt.Sprintf("The repository has no %s on its default branch.", repoconfig.Path)}
	case errors.As(f.cfgErr, &ce):
		return step{kind: stepBadConfig, reason: "the configuration has problems", problems: ce}
	case f.cfgErr != nil:
		return step{kind: stepBadConfig, reason: "the configuration cannot be read",
			problems: &repoconfig.Error{Problems: []repoconfig.Problem{{Message: f.cfgErr.Error()}}}}
	}

	// The state as the TTL in force sees it; a copy, so next changes nothing.
	keep, ttl := f.res.KeepLabel, f.ttl
	if keep == "" {
		keep = defaultKeepLabel
	}
	if f.res.TTL != nil {
		ttl = *f.res.TTL
	}
	c := *s
	c.setTTL(ttl, f.warning, keep)
	marks := &ttlMarks{expiresAt: c.ExpiresAt, warnAt: c.WarnAt, keepLabel: c.KeepLabel}
	with := func(st step) step { st.ttl = marks; return st }

	expired := expired(p, &c, pr, f.now)
	if expired {
		c.HoldSHA, c.HoldKind, c.HoldBy = pr.HeadSHA, holdTTL, ""
	}
	if c.held(pr, keep) {
		return with(step{kind: stepRemove, reason: holdReason(&c, ttl), holdTTL: expired})
	}
	policy := f.res.Policy
	if policy.OnlyWhenDirChanged {
		if !f.filesKnown {
			return with(step{kind: stepListFiles, reason: "the path filter needs the changed files"})
		}
		policy.ChangedFiles = f.files
	}
	if plan := preview.Decide(syntheticEvent(pr), policy); plan.Action != preview.ActionEnsure {
		return with(step{kind: stepRemove, reason: sentence(plan.Reason)})
	}
	return with(nextBuild(f, &c))
}

// nextBuild decides for an open PR that should have a preview: c is the
// state with the TTL in force.
func nextBuild(f facts, c *state) step {
	pr, p := f.pr, f.p
	if p.Active() && p.Status != store.StatusQueued && p.AppName != "" && p.AppName != f.name {
		return step{kind: stepRename, reason: "the name template changed: the app under the old name goes first"}
	}
	if c.building() {
		switch {
		case c.BuildSHA != pr.HeadSHA:
			return step{kind: stepStart, reason: "the head moved during a build: the Cloud skips the older job"}
		case c.Rebuild || c.Drifted:
			return step{kind: stepStart, reason: "a rebuild was asked for during a build"}
		case c.Run == nil:
			return step{kind: stepStart, reason: "a create may have been sent before a crash: send it again"}
		}
		return step{kind: stepPoll, reason: "the build is under way"}
	}
	var why string
	switch {
	case !p.Active():
		why = "there is no preview"
	case p.Status == store.StatusQueued:
		why = "the preview waits for a slot"
	case p.BuiltSHA != pr.HeadSHA:
		why = "the head moved"
	case c.Rebuild:
		why = "a rebuild was asked for"
	case c.Drifted:
		why = "the app vanished or another build replaced it"
	}
	if why == "" {
		return nextSteady(f, c)
	}
	if f.capacity > 0 && (!p.Active() || p.Status == store.StatusQueued) {
		// A preview that holds a slot keeps it for its rebuilds.
		if f.slots == nil {
			return step{kind: stepCountSlots, reason: why + ", and the installation has a cap"}
		}
		if f.capacity-f.slots.running <= f.slots.ahead {
			return step{kind: stepQueue, reason: "every slot of the cap is taken",
				running: f.slots.running, limit: f.capacity, position: f.slots.ahead + 1, queuedAt: f.slots.queuedAt}
		}
	}
	return step{kind: stepStart, reason: why}
}

// nextSteady decides for a preview built from the head: its env may have
// changed alone, and its TTL warning may be due.
func nextSteady(f facts, c *state) step {
	p := f.p
	st := step{kind: stepSteady, reason: "the preview is up to date"}
	if p.Status == store.StatusReady && c.EnvSig != "" {
		changed := c.EnvSig != envSig(f.res.Env)
		if changed && p.TenantID != "" {
			return step{kind: stepUpdateEnv, reason: "only the env changed: it is applied in place"}
		}
		// A changed env that cannot be applied in place (no tenant) must
		// not be recorded as applied.
		if !changed && (f.secretsRotated || !slices.Equal(c.SecretVars, f.res.SecretVars)) {
			st.recordEnv, st.reason = true, "the secrets behind the env changed, the app's env did not"
		}
	}
	st.warnTTL = ttlWarnDue(p, c, f.pr, f.now)
	return st
}

// syntheticEvent is the PR as it is now, as a "synchronize" event: the
// policy's drafts, required label, forks and path filter apply whatever the
// last delivery was about.
func syntheticEvent(pr *store.PullRequest) preview.Event {
	ev := preview.Event{
		Action: "synchronize", Closed: pr.Closed, Merged: pr.Merged, Draft: pr.Draft,
		Labels: pr.Labels, BaseRepo: pr.BaseOwner + "/" + pr.BaseRepo,
	}
	if pr.HeadOwner != "" && pr.HeadRepo != "" {
		ev.HeadRepo = pr.HeadOwner + "/" + pr.HeadRepo
	}
	return ev
}

// expired reports whether the built preview outlived its TTL.
func expired(p *store.Preview, s *state, pr *store.PullRequest, now time.Time) bool {
	return (p.Status == store.StatusReady || p.Status == store.StatusFailed) && !s.building() &&
		!s.ExpiresAt.IsZero() && !now.Before(s.ExpiresAt) && !hasLabel(pr.Labels, s.KeepLabel) &&
		p.BuiltSHA == pr.HeadSHA && !s.Rebuild
}

// ttlWarnDue reports whether the PR is to be warned now that its preview
// is about to expire.
func ttlWarnDue(p *store.Preview, s *state, pr *store.PullRequest, now time.Time) bool {
	return (p.Status == store.StatusReady || p.Status == store.StatusFailed) && !s.WarnAt.IsZero() &&
		!now.Before(s.WarnAt) && p.TTLWarnedAt.IsZero() && !hasLabel(pr.Labels, s.KeepLabel)
}

// runOver names what becomes of a build whose job is over.
type runOver int

const (
	runConclude    runOver = iota // record the outcome and show it
	runSuperseded                 // another create replaced ours: build again
	runAutoRebuild                // the Cloud's first-run error: rebuild once, by ourselves
)

// afterRun decides what a build that is over leads to. Users of the
// official action report that a rerun works after the first-run error
// (action#91), so that failure is rebuilt once per commit.
func afterRun(s *state) runOver {
	res := s.Run.Result
	switch {
	case res.Status == preview.StatusSuperseded:
		return runSuperseded
	case res.Status == preview.StatusFailed && res.FirstRunFailure && s.AutoRebuildSHA != s.BuildSHA:
		return runAutoRebuild
	}
	return runConclude
}
