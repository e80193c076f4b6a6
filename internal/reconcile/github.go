package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

// maxRateLimitWait keeps a pass short: a longer GitHub rate-limit wait
// pauses the installation's GitHub calls instead (budget.go).
const maxRateLimitWait = 20 * time.Second

// repEntry is a PR's Reporter while a build is under way, pacing its edits.
type repEntry struct {
	rep *ghreport.Reporter
	gh  *github.Client // the installation's client it was made with
	red *preview.Masker
}

// reporter returns the PR's Reporter and the redactor it writes through.
// Only one pass of a PR runs at a time (jobs' lease).
func (r *Reconciler) reporter(ps *pass) (*ghreport.Reporter, *preview.Masker) {
	r.mu.Lock()
	e := r.reps[ps.key]
	r.mu.Unlock()
	if e != nil && e.gh == ps.gh {
		return e.rep, e.red
	}
	red := &preview.Masker{}
	opts := []ghreport.Option{
		ghreport.WithRedact(red.Mask),
		ghreport.WithWriteGate(r.gate(ps.pr.InstallationID)),
		ghreport.WithCommentAuthor(ps.bot),
		ghreport.WithClock(r.Now),
		ghreport.WithLogger(ps.log),
		ghreport.WithMaxRateLimitWait(maxRateLimitWait),
	}
	rep := ghreport.New(ps.gh, ps.pr.BaseOwner, ps.pr.BaseRepo, ps.pr.Number, append(opts, r.ReporterOptions...)...)
	r.mu.Lock()
	r.reps[ps.key] = &repEntry{rep: rep, gh: ps.gh, red: red}
	r.mu.Unlock()
	return rep, red
}

// gate is the installation's write gate, which its Reporters share.
func (r *Reconciler) gate(id int64) ghreport.WriteGate {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.gates[id]
	if g == nil {
		g = ghreport.NewWriteGate()
		r.gates[id] = g
	}
	return g
}

// write makes a content write of our own (a reply, an unticked box, a
// deployment status) through the installation's write gate, best effort.
func (r *Reconciler) write(ctx context.Context, ps *pass, what string, write func() error) {
	r.warnGitHub(ctx, ps, what, r.gate(ps.pr.InstallationID).Do(ctx, write))
}

// warnGitHub logs a failed GitHub write and carries on: a preview does not
// fail for its comment. A missing permission is logged once per repository.
func (r *Reconciler) warnGitHub(ctx context.Context, ps *pass, what string, err error) {
	switch _, limited := ghreport.RateLimitUntil(err, r.Now()); {
	case err == nil:
	case limited:
		// The pause is logged once for the installation.
		ps.log.DebugContext(ctx, "GitHub "+what+" not updated: rate limit", "error", err)
	case ghreport.IsNoPermission(err):
		k := strings.ToLower(ps.pr.BaseOwner+"/"+ps.pr.BaseRepo) + " " + what
		r.mu.Lock()
		first := !r.warned[k]
		r.warned[k] = true
		r.mu.Unlock()
		if first {
			ps.log.WarnContext(ctx, "the App may not write "+what+" in this repository; carrying on without", "error", err)
		}
	default:
		ps.log.WarnContext(ctx, "GitHub "+what+" not updated", "error", err)
	}
}

// mustGitHub is warnGitHub for writes that show a final state: anything but
// a missing permission is returned, so the job retries and shows it.
func (r *Reconciler) mustGitHub(ctx context.Context, ps *pass, what string, err error) error {
	if err == nil || ghreport.IsNoPermission(err) {
		r.warnGitHub(ctx, ps, what, err)
		return nil
	}
	return fmt.Errorf("showing the preview of %s on GitHub: %w", ps.key, err)
}

// deploymentInactive marks a replaced build's deployment inactive, best
// effort: GitHub also retires it once a later one succeeds.
func (r *Reconciler) deploymentInactive(ctx context.Context, ps *pass, id int64, description string) {
	if id == 0 || ps.gh == nil {
		return
	}
	r.write(ctx, ps, "deployments", func() error {
		_, _, err := ps.gh.Repositories.CreateDeploymentStatus(ctx, ps.pr.BaseOwner, ps.pr.BaseRepo, id,
			&github.DeploymentStatusRequest{State: github.String("inactive"), Description: github.String(description)})
		return err
	})
}

// fillHead reads and records a PR the Store knows only from a comment.
// When GitHub does not know it either, there is nothing to show anything on.
func (r *Reconciler) fillHead(ctx context.Context, ps *pass) error {
	pr := ps.pr
	got, _, err := ps.gh.PullRequests.Get(ctx, pr.BaseOwner, pr.BaseRepo, pr.Number)
	if ghreport.IsNotFound(err) {
		ps.gh, ps.headGone = nil, true
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s from GitHub: %w", ps.key, err)
	}
	pr.Branch, pr.HeadSHA = got.GetHead().GetRef(), got.GetHead().GetSHA()
	head := got.GetHead().GetRepo() // nil when the fork is gone: go-github's getters give ""
	pr.HeadOwner, pr.HeadRepo = head.GetOwner().GetLogin(), head.GetName()
	pr.BaseRef, pr.Title, pr.Author = got.GetBase().GetRef(), got.GetTitle(), got.GetUser().GetLogin()
	pr.Closed, pr.Draft, pr.Merged = got.GetState() == "closed", got.GetDraft(), got.GetMerged()
	pr.Labels = pr.Labels[:0]
	for _, l := range got.Labels {
		pr.Labels = append(pr.Labels, l.GetName())
	}
	pr.EventUpdatedAt = got.GetUpdatedAt().Time
	if pr.HeadSHA == "" {
		return fmt.Errorf("reading %s from GitHub: the answer has no head commit", ps.key)
	}
	return r.Store.WithTx(ctx, func(tx *store.Tx) error {
		_, err := tx.RecordPullRequest(ctx, pr, false, false)
		return err
	})
}

// command honours the pending command (accept: its author may write) or
// answers its author, and clears it either way.
func (r *Reconciler) command(ctx context.Context, ps *pass, accept bool) error {
	pr, s, cmd := ps.pr, ps.s, ps.pr.Command
	switch {
	case !accept:
		ps.log.InfoContext(ctx, "command refused: no write access", "command", cmd.Kind, "actor", cmd.Actor)
		if err := r.refuse(ctx, ps, cmd); err != nil {
			return err
		}
	case cmd.Kind == store.CommandRebuild:
		s.Redo, s.Hold = redoAsked, nil
	case cmd.Kind == store.CommandDelete:
		if s.Redo == redoAsked {
			s.Redo = ""
		}
		s.Hold = &hold{SHA: pr.HeadSHA, Kind: holdCommand, By: cmd.Actor}
	}
	if accept {
		// Saved before the command is cleared: a crash repeats it.
		if err := r.save(ctx, ps); err != nil {
			return err
		}
		ps.log.InfoContext(ctx, "command accepted", "command", cmd.Kind, "actor", cmd.Actor)
	}
	if _, err := r.Store.ClearCommand(ctx, ps.key, cmd.At); err != nil {
		return err
	}
	pr.Command = nil
	r.untick(ctx, ps, cmd.CommentID)
	return nil
}

// replyWindow is how long one user's refused commands on one PR get a
// reaction instead of another reply, so nobody makes the bot post at will.
const replyWindow = time.Hour

// refuse answers a refused command: a reply at most once per replyWindow
// per user and PR (kept in the Store), a -1 reaction otherwise.
func (r *Reconciler) refuse(ctx context.Context, ps *pass, cmd *store.Command) error {
	pr := ps.pr
	if cmd.Actor == "" {
		return nil
	}
	reply, err := r.Store.TakeReplySlot(ctx, ps.key, cmd.Actor, replyWindow)
	if err != nil {
		return err
	}
	if reply {
		body := fmt.Sprintf("@%s, only people with write access to this repository can %s this preview.", cmd.Actor, cmd.Kind)
		r.write(ctx, ps, "comments", func() error {
			_, _, err := ps.gh.Issues.CreateComment(ctx, pr.BaseOwner, pr.BaseRepo, pr.Number, &github.IssueComment{Body: github.String(body)})
			return err
		})
		return nil
	}
	if cmd.CommentID == 0 {
		return nil
	}
	// "Create reaction for an issue comment": POST
	// /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions with
	// {"content": "-1"}; 200 when this reaction is already there.
	r.write(ctx, ps, "reactions", func() error {
		_, _, err := ps.gh.Reactions.CreateIssueCommentReaction(ctx, pr.BaseOwner, pr.BaseRepo, cmd.CommentID, "-1")
		return err
	})
	return nil
}

// mayWrite asks GitHub whether login may write to the base repository.
func (r *Reconciler) mayWrite(ctx context.Context, ps *pass, login string) (bool, error) {
	if login == "" {
		return false, nil
	}
	lvl, _, err := ps.gh.Repositories.GetPermissionLevel(ctx, ps.pr.BaseOwner, ps.pr.BaseRepo, login)
	if ghreport.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking the permission of %s on %s: %w", login, ps.key, err)
	}
	return slices.Contains([]string{"admin", "maintain", "write"}, lvl.GetPermission()), nil
}

// untick clears the rebuild checkbox of our comment when the command came
// from ticking it, so that the next tick is noticed; other comments stay.
func (r *Reconciler) untick(ctx context.Context, ps *pass, commentID int64) {
	if commentID == 0 {
		return
	}
	pr := ps.pr
	c, _, err := ps.gh.Issues.GetComment(ctx, pr.BaseOwner, pr.BaseRepo, commentID)
	if err != nil {
		if !ghreport.IsNotFound(err) {
			r.warnGitHub(ctx, ps, "comments", err)
		}
		return
	}
	body := c.GetBody()
	if !strings.EqualFold(c.GetUser().GetLogin(), ps.bot) ||
		!strings.HasPrefix(strings.TrimSpace(body), ghreport.Marker) || !ghreport.ParseRebuildTicked(body) {
		return
	}
	r.write(ctx, ps, "comments", func() error {
		_, _, err := ps.gh.Issues.EditComment(ctx, pr.BaseOwner, pr.BaseRepo, commentID,
			&github.IssueComment{Body: github.String(ghreport.ClearRebuildTick(body))})
		return err
	})
}
