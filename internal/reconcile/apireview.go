package reconcile

import (
	"context"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/apireview"
	"github.com/hasura-preview/hasura-preview/internal/ghproject"
)

// apiReviewTimeout bounds a review's two archive downloads.
const apiReviewTimeout = time.Minute

// reviewAPI diffs the project at the base branch against the head, once
// per head, and keeps the section in the state; it reports a change.
func (r *Reconciler) reviewAPI(ctx context.Context, ps *pass) bool {
	pr, s := ps.pr, ps.s
	if ps.gh == nil || pr.HeadSHA == "" || pr.BaseRef == "" || s.APIReviewSHA == pr.HeadSHA {
		return false
	}
	opts := apireview.Options{}
	for _, e := range ps.res.Env {
		if e.Key == "HASURA_GRAPHQL_UNAUTHORIZED_ROLE" {
			opts.UnauthorizedRole = e.Value
		}
	}
	rctx, cancel := context.WithTimeout(ctx, apiReviewTimeout)
	defer cancel()
	// The base repository serves a fork's head commit too.
	rep := ghproject.Review(rctx, ps.gh, nil, pr.BaseOwner, pr.BaseRepo, ps.res.Directory,
		ghproject.Side{Ref: pr.BaseRef}, ghproject.Side{Ref: pr.HeadSHA}, opts, ghproject.Limits{})
	s.APIReviewSHA, s.APISummary, s.APIReview = pr.HeadSHA, ps.red.Mask(rep.Summary), ps.red.Mask(rep.Markdown())
	ps.log.InfoContext(ctx, "API review", "sha", pr.HeadSHA, "summary", s.APISummary)
	return true
}
