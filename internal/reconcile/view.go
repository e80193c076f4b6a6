package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/apireview"
	"github.com/hasura-preview/hasura-preview/internal/ghproject"
	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/repoconfig"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

// view renders the comment from the stored state alone, so every process
// shows the same.
func (r *Reconciler) view(ps *pass) ghreport.View {
	p, s, pr := ps.p, ps.s, ps.pr
	name := cmp.Or(p.AppName, ps.name)
	v := ghreport.View{
		Branch: pr.Branch, SHA: cmp.Or(s.BuildSHA, pr.HeadSHA), PR: pr.Number,
		RebuildCheckbox: p.Status != store.StatusNone, Footer: r.Footer,
	}
	var ce *repoconfig.Error
	switch {
	case p.Status == store.StatusDeleted:
		v.Result = preview.Result{Name: name, Status: preview.StatusDeleted, Message: s.Reason}
	case p.Status == store.StatusDeleting:
		v.Result = preview.Result{Name: name, Status: preview.StatusDeleted, Message: s.Reason}
		v.Headline = "Preview " + name + " will be deleted as soon as its running build ends"
	case p.Status == store.StatusQueued:
		v.Result = preview.Result{Name: name}
	case p.Status == store.StatusNone:
		v.Result = preview.Result{Name: name}
		v.Headline = "No preview for this pull request"
		if !errors.As(ps.cfgErr, &ce) {
			v.Result.Message = s.Reason
		}
	case s.Run != nil:
		v.Result = s.Run.Result
	default:
		v.Result = preview.Result{Name: name, Status: preview.StatusCreating}
	}
	if s.APIReview != "" && s.APIReviewSHA == v.SHA && p.Status != store.StatusDeleted {
		v.Section = s.APIReview
	}
	v.Notices = append(v.Notices, ps.notices...)
	for _, w := range ps.warns {
		v.Notices = append(v.Notices, ghreport.Notice{Kind: ghreport.NoticeWarning, Text: "`" + repoconfig.Path + "`: " + w.String()})
	}
	if kept(p, s, pr) && !p.TTLWarnedAt.IsZero() && !s.ExpiresAt.IsZero() {
		v.Notices = append(v.Notices, ghreport.Notice{Kind: ghreport.NoticeWarning, Text: fmt.Sprintf(
			"This preview will be deleted at %s — add the `%s` label to keep it.",
			s.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"), s.KeepLabel)})
	}
	return v
}

// commentWanted reports whether the PR should carry our comment: not in a
// repository that does not take part and was never commented on.
func (r *Reconciler) commentWanted(ps *pass) bool {
	var ce *repoconfig.Error
	switch {
	case ps.gh == nil:
		return false
	case ps.p.CommentID != 0, errors.As(ps.cfgErr, &ce) && !ps.pr.Closed:
		return true
	case ps.p.Status == store.StatusDeleted:
		return !errors.Is(ps.cfgErr, repoconfig.ErrNotConfigured)
	}
	return ps.p.Status != store.StatusNone
}

// progress shows an intermediate state, paced by the Reporter; a failure
// only costs a stale comment.
func (r *Reconciler) progress(ctx context.Context, ps *pass) {
	if !r.commentWanted(ps) || r.Budgets.low(ps.pr.InstallationID) {
		return // short of GitHub budget, only the final state is shown
	}
	r.warnGitHub(ctx, ps, "comments", ps.rep.Update(ctx, r.view(ps)))
	r.noteComment(ctx, ps)
}

// publish shows the final state: the deployment's last status and the
// comment. A failure is returned: the state is owed until both are written.
func (r *Reconciler) publish(ctx context.Context, ps *pass) error {
	if ps.gh == nil {
		return nil
	}
	p, s := ps.p, ps.s
	key := reportKey(p, s)
	owed := (p.Status == store.StatusReady || p.Status == store.StatusFailed || p.Status == store.StatusDeleted) && s.Reported != key
	if owed {
		if s.DeployOwed && p.DeploymentID == 0 && p.Status != store.StatusDeleted {
			if err := r.owedDeployment(ctx, ps); err != nil {
				return err
			}
		}
		var err error
		switch {
		case p.Status == store.StatusReady && p.DeploymentID != 0:
			err = ps.rep.FinishDeployment(ctx, p.DeploymentID, ghreport.DeploySuccess, p.Endpoint, "", "Preview "+p.AppName+" is ready")
		case p.Status == store.StatusFailed && p.DeploymentID != 0:
			err = ps.rep.FinishDeployment(ctx, p.DeploymentID, ghreport.DeployFailure, "", "", cmp.Or(p.LastError, "The preview failed"))
		case p.Status == store.StatusDeleted && p.AppName != "":
			err = ps.rep.DeactivateEnvironment(ctx, ghreport.EnvironmentName(p.AppName))
		}
		if err := r.mustGitHub(ctx, ps, "deployments", err); err != nil {
			return err
		}
	}
	if r.commentWanted(ps) {
		err := ps.rep.Update(ctx, r.view(ps))
		if err == nil {
			err = ps.rep.Flush(ctx)
		}
		if err := r.mustGitHub(ctx, ps, "comments", err); err != nil {
			return err
		}
		r.noteComment(ctx, ps)
	}
	if owed {
		s.Reported = key
		ps.dirty = true
	}
	return nil
}

// owedDeployment creates the deployment a build could not (state.DeployOwed),
// saved before its status is written so a retry does not create another.
func (r *Reconciler) owedDeployment(ctx context.Context, ps *pass) error {
	p, s := ps.p, ps.s
	id, err := ps.rep.StartDeployment(ctx, ghreport.DeploymentSpec{
		Environment: ghreport.EnvironmentName(p.AppName), Ref: s.BuildSHA, Description: "Preview " + p.AppName,
		SkipInProgress: true,
	})
	if id == 0 {
		if err := r.mustGitHub(ctx, ps, "deployments", err); err != nil {
			return err
		}
		// Not permitted: nothing more to owe.
	}
	p.DeploymentID, s.DeployOwed = id, false
	return r.save(ctx, ps)
}

// noteComment remembers our comment's id, for later passes to keep it up.
func (r *Reconciler) noteComment(ctx context.Context, ps *pass) {
	if id := ps.rep.CommentID(); id != 0 && id != ps.p.CommentID {
		ps.p.CommentID = id
		if err := r.save(ctx, ps); err != nil {
			ps.log.WarnContext(ctx, "saving the comment id", "error", err)
		}
	}
}

// apiReviewTimeout bounds a review's two archive downloads.
const apiReviewTimeout = time.Minute

// reviewAPI diffs the project at the base branch against the head, once
// per head, and keeps the section in the state; it reports a change.
func (r *Reconciler) reviewAPI(ctx context.Context, ps *pass) bool {
	pr, s := ps.pr, ps.s
	if ps.gh == nil || pr.HeadSHA == "" || pr.BaseRef == "" || s.APIReviewSHA == pr.HeadSHA {
		return false
	}
	opts := apireview.Options{UnauthorizedRole: preview.EnvValue(ps.res.Env, "HASURA_GRAPHQL_UNAUTHORIZED_ROLE")}
	rctx, cancel := context.WithTimeout(ctx, apiReviewTimeout)
	defer cancel()
	// The base repository serves a fork's head commit too.
	rep := ghproject.Review(rctx, ps.gh, pr.BaseOwner, pr.BaseRepo, ps.res.Directory,
		ghproject.Side{Ref: pr.BaseRef}, ghproject.Side{Ref: pr.HeadSHA}, opts)
	s.APIReviewSHA, s.APISummary, s.APIReview = pr.HeadSHA, ps.red.Mask(rep.Summary), ps.red.Mask(rep.Markdown())
	ps.log.InfoContext(ctx, "API review", "sha", pr.HeadSHA, "summary", s.APISummary)
	return true
}
