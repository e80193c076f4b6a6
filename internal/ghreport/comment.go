package ghreport

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/google/go-github/v60/github"
)

// Update writes view into the PR's sticky comment: it edits ours in place,
// and creates it only when there is none. Progress views that come within
// the minimum interval of the previous write are held back (see Flush);
// final views are always written. An unchanged body is not sent again.
func (r *Reporter) Update(ctx context.Context, view View) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	body := r.body(view)
	if r.commentID != 0 && body == r.lastBody {
		r.pending = ""
		return nil
	}
	if !view.Result.Status.Done() && !r.lastWrite.IsZero() && r.now().Sub(r.lastWrite) < minInterval {
		r.pending = body
		return nil
	}
	return r.write(ctx, body)
}

// UpdateExisting is Update for news that matters only to a PR that already
// has our comment: it reports whether there was one to edit.
func (r *Reporter) UpdateExisting(ctx context.Context, view View) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.commentID == 0 {
		if err := r.adopt(ctx); err != nil {
			return false, err
		}
		if r.commentID == 0 {
			return false, nil
		}
	}
	err := r.write(ctx, r.body(view))
	return err == nil, err
}

// Flush writes the progress view Update last held back, if any.
func (r *Reporter) Flush(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending == "" {
		return nil
	}
	return r.write(ctx, r.pending)
}

// body renders view with this Reporter's redaction, cut to GitHub's limit.
func (r *Reporter) body(view View) string {
	b := RenderMasked(view, r.redact)
	if textLen(b) > MaxBodyLen {
		b = hardCut(b, MaxBodyLen)
	}
	return b
}

func (r *Reporter) write(ctx context.Context, body string) error {
	return r.gate.Do(ctx, func() error {
		if err := r.upsert(ctx, body); err != nil {
			r.pending = body
			return err
		}
		r.pending = ""
		r.lastWrite = r.now()
		return nil
	})
}

func (r *Reporter) upsert(ctx context.Context, body string) error {
	if r.commentID == 0 {
		if err := r.adopt(ctx); err != nil {
			return err
		}
	}
	if r.commentID != 0 {
		if body == r.lastBody {
			return nil
		}
		err := r.edit(ctx, r.commentID, body)
		if err == nil || !IsNotFound(err) {
			return err
		}
		// Someone deleted our comment (a 404 here is not a permission
		// problem: we found it with the same token).
		r.log.Info("sticky comment is gone, writing it again", "comment_id", r.commentID)
		r.commentID, r.lastBody = 0, ""
		if err := r.adopt(ctx); err != nil {
			return err
		}
		if r.commentID != 0 {
			return r.edit(ctx, r.commentID, body)
		}
	}
	return r.create(ctx, body)
}

// adopt looks for our comment and remembers the oldest one found.
func (r *Reporter) adopt(ctx context.Context) error {
	found, err := r.find(ctx)
	if err != nil {
		return err
	}
	if len(found) > 0 {
		r.commentID, r.lastBody = found[0].GetID(), found[0].GetBody()
	}
	return nil
}

// create posts the comment; the caller has just looked and found none.
// Another run may have looked at the same moment, so it looks once more
// afterwards: if an older marked comment exists, it deletes its own and
// adopts that one. Each run deletes only what it created, and the oldest
// survives, so concurrent runs end with exactly one comment.
func (r *Reporter) create(ctx context.Context, body string) error {
	var created *github.IssueComment
	err := r.call(ctx, "creating the PR comment", func(ctx context.Context, gh *github.Client) (*github.Response, error) {
		c, resp, err := gh.Issues.CreateComment(ctx, r.owner, r.repo, r.pr, &github.IssueComment{Body: github.String(body)})
		created = c
		return resp, err
	})
	if err != nil {
		return err
	}
	r.commentID, r.lastBody = created.GetID(), body

	found, err := r.find(ctx)
	if err != nil {
		// The comment is written; a duplicate check that failed is worth
		// a line in the log, not a failed update.
		r.log.Warn("could not check for a duplicate sticky comment", "error", err)
		return nil
	}
	if len(found) == 0 || found[0].GetID() == created.GetID() {
		return nil
	}
	oldest := found[0]
	r.log.Info("another run created the sticky comment first; removing ours",
		"ours", created.GetID(), "kept", oldest.GetID())
	err = r.call(ctx, "deleting a duplicate PR comment", func(ctx context.Context, gh *github.Client) (*github.Response, error) {
		return gh.Issues.DeleteComment(ctx, r.owner, r.repo, created.GetID())
	})
	if err != nil && !IsNotFound(err) {
		return err
	}
	r.commentID, r.lastBody = oldest.GetID(), oldest.GetBody()
	if r.lastBody == body {
		return nil
	}
	return r.edit(ctx, r.commentID, body)
}

func (r *Reporter) edit(ctx context.Context, id int64, body string) error {
	err := r.call(ctx, "editing the PR comment", func(ctx context.Context, gh *github.Client) (*github.Response, error) {
		_, resp, err := gh.Issues.EditComment(ctx, r.owner, r.repo, id, &github.IssueComment{Body: github.String(body)})
		return resp, err
	})
	if err == nil {
		r.lastBody = body
	}
	return err
}

// find pages through every comment of the PR (ours may sit behind hundreds
// of others) and returns the marked ones, oldest first.
func (r *Reporter) find(ctx context.Context) ([]*github.IssueComment, error) {
	var found []*github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	err := r.eachPage(ctx, "listing PR comments", &opts.ListOptions, func(ctx context.Context, gh *github.Client) (*github.Response, error) {
		cs, resp, err := gh.Issues.ListComments(ctx, r.owner, r.repo, r.pr, opts)
		for _, c := range cs {
			if r.ours(c) {
				found = append(found, c)
			}
		}
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(found, func(a, b *github.IssueComment) int {
		return cmp.Or(
			a.GetCreatedAt().Time.Compare(b.GetCreatedAt().Time),
			cmp.Compare(a.GetID(), b.GetID()),
		)
	})
	return found, nil
}

// ours: our marker opens the body (a comment that merely quotes it further
// down is someone else's), and the author matches when one is configured.
func (r *Reporter) ours(c *github.IssueComment) bool {
	if !strings.HasPrefix(strings.TrimLeft(c.GetBody(), " \t\r\n"), Marker) {
		return false
	}
	return r.author == "" || strings.EqualFold(c.GetUser().GetLogin(), r.author)
}

// eachPage makes list's call for every page of a listing, moving page on
// as GitHub's Link header says; list keeps what it needs of each page.
func (r *Reporter) eachPage(ctx context.Context, op string, page *github.ListOptions, list apiCall) error {
	for {
		next := 0
		err := r.call(ctx, op, func(ctx context.Context, gh *github.Client) (*github.Response, error) {
			resp, err := list(ctx, gh)
			if resp != nil {
				next = resp.NextPage
			}
			return resp, err
		})
		if err != nil || next == 0 || next == page.Page {
			return err
		}
		page.Page = next
	}
}
