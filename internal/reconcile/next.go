package reconcile

import (
	"cmp"
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

// The steps next can ask for: "ask" fetches a fact and "act" changes
// something before next is asked again; the rest end the pass.
const (
	stepSteady         stepKind = iota // the preview is what it should be: show it, maybe warn of the TTL
	stepSettle                         // nothing to act with or on: record the generation as seen
	stepWait                           // GitHub is paused: come back when it resumes
	stepRetry                          // the configuration could not be read: fail the job, River retries
	stepRemove                         // delete the preview, or keep it deleted, for the step's reason
	stepBadConfig                      // show the configuration's problems and build nothing
	stepQueue                          // wait in line for a slot of the cap
	stepStart                          // ask the Cloud for a build of the head
	stepPoll                           // read the running build's job once
	stepUpdateEnv                      // apply a changed env to the live app without a rebuild
	stepCheckInstalled                 // ask GitHub whether the App really left the repository (ask)
	stepConnect                        // get the installation's client (ask)
	stepFillHead                       // read a PR known only from a comment (ask)
	stepCheckWriter                    // ask whether the command's author may write (ask)
	stepLoadConfig                     // read the repository's configuration (ask)
	stepListFiles                      // the path filter needs the PR's changed files (ask)
	stepCountSlots                     // take the installation's cap lease and count its slots (ask)
	stepCommand                        // honour or refuse the pending command, and clear it (act)
	stepRename                         // delete the app under its old name first (act)
)

var stepNames = [...]string{"steady", "settle", "wait", "retry", "remove", "bad config", "queue", "start", "poll", "update env",
	"check installed", "connect", "fill head", "check writer", "load config", "list files", "count slots", "command", "rename"}

func (k stepKind) String() string {
	if int(k) < len(stepNames) {
		return stepNames[k]
	}
	return fmt.Sprintf("step(%d)", int(k))
}

// step is next's answer: what to do, and why.
type step struct {
	kind      stepKind
	reason    string            // why; for stepRemove, the sentence the comment shows
	until     time.Time         // while GitHub is paused: when it resumes
	accept    bool              // stepCommand: its author may write
	err       error             // stepRetry: what to retry on
	ttl       *ttlMarks         // the TTL in force, for the pass to store
	holdTTL   bool              // stepRemove: the head stays deleted, the TTL passed
	problems  *repoconfig.Error // stepBadConfig: the problems to show
	recordEnv bool              // stepSteady: the secrets behind the env changed, the app's env did not
	warnTTL   bool              // stepSteady: the TTL warning is due
	// stepQueue: where the PR waits, and since when.
	running, limit, position int
	queuedAt                 time.Time
}

// ttlMarks are the state's expiry fields as the TTL in force sets them.
type ttlMarks struct {
	expiresAt, warnAt time.Time
	keepLabel         string
}

// slotCount is the installation's cap as counted under its lease: the
// previews holding a slot, those ahead of this PR, and its place in line.
type slotCount struct {
	running, ahead int
	queuedAt       time.Time
}

// facts are what next decides from, plain values the pass loaded or
// asked for. next changes none of them.
type facts struct {
	pr        *store.PullRequest
	p         *store.Preview
	s         *state
	paused    time.Time // when the installation may call GitHub again (zero: now)
	gone      bool      // GitHub confirmed the App lost the repository or installation
	installed bool      // GitHub says the App did not, whatever a delivery said
	connected bool      // the installation's client is at hand
	headGone  bool      // GitHub does not know the PR
	writer    *bool     // the command's author may write (nil: not asked)
	// Once configRead, readErr is worth a retry and cfgErr is what the file
	// says (see nextWanted); without either, res and name are in force.
	configRead      bool
	readErr, cfgErr error
	res             repoconfig.Resolved
	name            string
	ttl, warning    time.Duration // the service's defaults
	capacity        int           // the cap per installation (0: none)
	files           []string      // the PR's changed paths (nil: not asked; changedFiles gives none as [])
	slots           *slotCount    // the cap's count, once taken
	secretsRotated  bool          // a service variable the live env came from changed
	sigKey          string        // keys the env fingerprints (Settings.EnvSigKey)
	now             time.Time
}

const uninstalledReason = "The hasura-preview App was removed from this repository."

// next makes every decision of a pass, in the order doc.go lists, without
// I/O: a step may ask for a fact, and the pass asks again with it.
func next(f facts) step {
	pr := f.pr
	switch {
	case pr.InstallationID == 0:
		return step{kind: stepSettle, reason: "the PR came from a repository webhook, not the App"}
	case f.gone:
		return step{kind: stepRemove, reason: uninstalledReason}
	case pr.Uninstalled && !f.installed:
		return step{kind: stepCheckInstalled, reason: "a delivery said the App was removed: GitHub confirms it first"}
	case !f.paused.IsZero():
		return nextPaused(f)
	case !f.connected:
		return step{kind: stepConnect, reason: "the pass needs GitHub"}
	case pr.HeadSHA == "" && f.headGone:
		return step{kind: stepSettle, reason: "GitHub does not know the pull request"}
	case pr.HeadSHA == "":
		return step{kind: stepFillHead, reason: "the PR is known only from a comment"}
	case pr.Command != nil && f.writer == nil:
		return step{kind: stepCheckWriter, reason: "a command is pending"}
	case pr.Command != nil:
		return step{kind: stepCommand, accept: *f.writer, reason: "a command is pending"}
	case !f.configRead:
		return step{kind: stepLoadConfig, reason: "the configuration decides the rest"}
	case pr.Closed:
		return step{kind: stepRemove, reason: closedReason(pr)}
	case f.readErr != nil:
		return step{kind: stepRetry, reason: "the configuration cannot be read now", err: f.readErr}
	}
	return nextWanted(f)
}

// nextPaused decides while the installation may not call GitHub: a closed
// PR's preview is still deleted and a build in flight followed; the rest waits.
func nextPaused(f facts) step {
	pr, p, s := f.pr, f.p, f.s
	wait := step{kind: stepWait, reason: "GitHub's rate limit is spent", until: f.paused}
	inFlight := followed(pr, p, s) && !pr.Closed && p.Status == store.StatusBuilding
	switch {
	case !(pr.Closed && p.Active()) && !inFlight:
		return wait
	case !f.configRead:
		wait.kind = stepLoadConfig
	case inFlight:
		wait.kind, wait.reason = stepPoll, "the build goes on in the Cloud"
	default:
		wait.kind, wait.reason = stepRemove, closedReason(pr)
	}
	return wait
}

// nextWanted decides for an open PR whose configuration was read.
func nextWanted(f facts) step {
	pr, p, s := f.pr, f.p, f.s
	var ce *repoconfig.Error
	switch {
	case errors.Is(f.cfgErr, repoconfig.ErrNotConfigured):
		return step{kind: stepRemove, reason: fmt.Sprintf("The repository has no %s on its default branch.", repoconfig.Path)}
	case errors.As(f.cfgErr, &ce):
		return step{kind: stepBadConfig, reason: "the configuration has problems", problems: ce}
	case f.cfgErr != nil:
		return step{kind: stepBadConfig, reason: "the configuration cannot be read", problems: problem(f.cfgErr)}
	}

	// A copy of the state under the TTL in force.
	keep, ttl := cmp.Or(f.res.KeepLabel, defaultKeepLabel), ttlIn(&f.res, f.ttl)
	c := *s
	c.setTTL(ttl, f.warning, keep)
	marks := &ttlMarks{expiresAt: c.ExpiresAt, warnAt: c.WarnAt, keepLabel: c.KeepLabel}
	with := func(st step) step { st.ttl = marks; return st }

	expired := expired(p, &c, pr, f.now)
	if expired {
		c.Hold = &hold{SHA: pr.HeadSHA, Kind: holdTTL}
	}
	if c.held(pr, keep) {
		return with(step{kind: stepRemove, reason: holdReason(&c, ttl), holdTTL: expired})
	}
	policy := f.res.Policy
	if policy.OnlyWhenDirChanged {
		if f.files == nil {
			return with(step{kind: stepListFiles, reason: "the path filter needs the changed files"})
		}
		policy.ChangedFiles = f.files
	}
	if plan := preview.Decide(syntheticEvent(pr), policy); plan.Action != preview.ActionEnsure {
		return with(step{kind: stepRemove, reason: sentence(plan.Reason)})
	}
	return with(nextBuild(f, &c))
}

// nextBuild decides for a PR that should have a preview; c is the state
// with the TTL in force.
func nextBuild(f facts, c *state) step {
	pr, p := f.pr, f.p
	if p.Active() && p.Status != store.StatusQueued && p.AppName != "" && p.AppName != f.name {
		return step{kind: stepRename, reason: "the name template changed: the app under the old name goes first"}
	}
	if building(p, c) {
		switch {
		case followed(pr, p, c):
			return step{kind: stepPoll, reason: "the build is under way"}
		case c.BuildSHA != pr.HeadSHA:
			return step{kind: stepStart, reason: "the head moved during a build: the Cloud skips the older job"}
		case c.Redo != "":
			return step{kind: stepStart, reason: "a rebuild was asked for during a build"}
		}
		return step{kind: stepStart, reason: "a create may have been sent before a crash: send it again"}
	}
	var why string
	switch {
	case !p.Active():
		why = "there is no preview"
	case p.Status == store.StatusQueued:
		why = "the preview waits for a slot"
	case p.BuiltSHA != pr.HeadSHA:
		why = "the head moved"
	case c.Redo == redoAsked:
		why = "a rebuild was asked for"
	case c.Redo == redoDrifted:
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
// changed alone, its TTL warning may be due.
func nextSteady(f facts, c *state) step {
	p := f.p
	st := step{kind: stepSteady, reason: "the preview is up to date"}
	if p.Status == store.StatusReady && c.EnvSig != "" {
		fp := fingerprints{key: f.sigKey} // no secrets are read here
		changed := !fp.matches(c.EnvSig, f.res.Env)
		if changed && p.TenantID != "" {
			return step{kind: stepUpdateEnv, reason: "only the env changed: it is applied in place"}
		}
		// An env not applied (no tenant) is not recorded as applied.
		switch {
		case changed:
		case f.secretsRotated || !slices.Equal(c.SecretVars, f.res.SecretVars):
			st.recordEnv, st.reason = true, "the secrets behind the env changed, the app's env did not"
		case c.EnvSig != fp.env(f.res.Env): // a record written before the fingerprints were keyed
			st.recordEnv, st.reason = true, "the env's fingerprint is recorded keyed"
		}
	}
	st.warnTTL = ttlWarnDue(p, c, f.pr, f.now)
	return st
}

// followed reports whether the build under way is the one wanted, of the
// head with no rebuild asked for, and has a job to follow.
func followed(pr *store.PullRequest, p *store.Preview, s *state) bool {
	return building(p, s) && s.BuildSHA == pr.HeadSHA && s.Redo == "" && s.Run != nil
}

// syntheticEvent is the PR as it is now, for the policy, whatever the last
// delivery was about.
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

// kept reports whether a built preview counts down its TTL.
func kept(p *store.Preview, s *state, pr *store.PullRequest) bool {
	return (p.Status == store.StatusReady || p.Status == store.StatusFailed) && !hasLabel(pr.Labels, s.KeepLabel)
}

// expired reports whether the built preview outlived its TTL.
func expired(p *store.Preview, s *state, pr *store.PullRequest, now time.Time) bool {
	return kept(p, s, pr) && !building(p, s) && !s.ExpiresAt.IsZero() && !now.Before(s.ExpiresAt) &&
		p.BuiltSHA == pr.HeadSHA && s.Redo != redoAsked
}

// ttlWarnDue reports whether the PR is to be warned of the expiry now.
func ttlWarnDue(p *store.Preview, s *state, pr *store.PullRequest, now time.Time) bool {
	return kept(p, s, pr) && !s.WarnAt.IsZero() && !now.Before(s.WarnAt) && p.TTLWarnedAt.IsZero()
}

// runOver names what becomes of a build whose job is over.
type runOver int

const (
	runConclude    runOver = iota // record the outcome and show it
	runSuperseded                 // another create replaced ours: build again
	runAutoRebuild                // the Cloud's first-run error: rebuild once, by ourselves
)

// afterRun decides what a build that is over leads to. A rerun works after
// the first-run error (action#91), so it is rebuilt once per commit, unless
// GitHub is paused: then the failure is recorded.
func afterRun(s *state, paused bool) runOver {
	res := s.Run.Result
	switch {
	case res.Status == preview.StatusSuperseded:
		return runSuperseded
	case res.Status == preview.StatusFailed && res.FirstRunFailure && s.AutoRebuildSHA != s.BuildSHA && !paused:
		return runAutoRebuild
	}
	return runConclude
}
