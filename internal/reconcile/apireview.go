package reconcile

import (
	"context"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/apireview"
	"github.com/hasura-preview/hasura-preview/internal/ghproject"
)

// apiReviewTimeout bounds the two archive downloads of a review; a review
// that does not finish in time leaves the comment without the section.
const apiReviewTimeout = time.Minute

// reviewAPI diffs the project at the base branch against the head commit
// (one archive each, with the installation's token) and keeps the
// rendered section in the state, so every later comment shows it, the
// failed build's too. A head already reviewed is not fetched again. It
// reports whether the state changed.
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
	// A fork's head commit is served by the base repository too, which
	// is the repository the installation token certainly reaches.
	rep := ghproject.Review(rctx, ps.gh, nil, pr.BaseOwner, pr.BaseRepo, ps.res.Directory,
		ghproject.Side{Ref: pr.BaseRef}, ghproject.Side{Ref: pr.HeadSHA}, opts, ghproject.Limits{})
	s.APIReviewSHA, s.APISummary, s.APIReview = pr.HeadSHA, ps.red.Mask(rep.Summary), ps.red.Mask(rep.Markdown())
	ps.log.InfoContext(ctx, "API review", "sha", pr.HeadSHA, "summary", s.APISummary)
	return true
}
