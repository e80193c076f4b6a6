// Package ghevent reads GitHub's pull_request payloads (go-github's types)
// into the preview domain's terms, so that internal/preview itself knows
// nothing of GitHub's API.
package ghevent

import (
	"fmt"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// Event is what preview.Decide needs of a pull_request event. A nil event or
// one without a pull request gives an Event that Decide skips.
func Event(ev *github.PullRequestEvent) preview.Event {
	if ev == nil {
		return preview.Event{}
	}
	out := preview.Event{Action: ev.GetAction(), Label: ev.GetLabel().GetName()}
	pr := ev.PullRequest
	if pr == nil {
		return out
	}
	out.Closed, out.Merged, out.Draft = pr.GetState() == "closed", pr.GetMerged(), pr.GetDraft()
	for _, l := range pr.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	if head := pr.GetHead().GetRepo(); head != nil {
		out.HeadRepo = head.GetFullName()
	}
	out.BaseRepo = pr.GetBase().GetRepo().GetFullName()
	return out
}

// Target extracts where the preview's code lives. The branch exists only in
// the head repository, so for a fork the owner and name come from
// pull_request.head.repo rather than from the event's repository.
func Target(ev *github.PullRequestEvent) (preview.Repo, error) {
	if ev == nil {
		return preview.Repo{}, fmt.Errorf("%w: no event", preview.ErrMalformedEvent)
	}
	pr := ev.PullRequest
	if pr == nil {
		return preview.Repo{}, fmt.Errorf("%w: no pull_request object", preview.ErrMalformedEvent)
	}
	if pr.Head == nil {
		return preview.Repo{}, fmt.Errorf("%w: pull request has no head", preview.ErrMalformedEvent)
	}
	head := pr.Head.Repo
	if head == nil {
		return preview.Repo{}, fmt.Errorf("%w: pull_request.head.repo is missing (the fork was probably deleted)", preview.ErrMalformedEvent)
	}
	r := preview.Repo{
		Owner:  head.GetOwner().GetLogin(),
		Name:   head.GetName(),
		Branch: pr.Head.GetRef(),
		SHA:    pr.Head.GetSHA(),
		Number: pr.GetNumber(),
	}
	if r.Number == 0 {
		r.Number = ev.GetNumber()
	}
	base := pr.GetBase().GetRepo()
	if base == nil {
		base = ev.Repo
	}
	r.BaseOwner = base.GetOwner().GetLogin()
	r.BaseName = base.GetName()
	switch {
	case r.Owner == "" || r.Name == "":
		return preview.Repo{}, fmt.Errorf("%w: pull_request.head.repo has no owner login or name", preview.ErrMalformedEvent)
	case r.Branch == "":
		return preview.Repo{}, fmt.Errorf("%w: pull_request.head.ref (the branch) is empty", preview.ErrMalformedEvent)
	case r.Number <= 0:
		return preview.Repo{}, fmt.Errorf("%w: no pull request number", preview.ErrMalformedEvent)
	case r.BaseOwner == "" || r.BaseName == "":
		return preview.Repo{}, fmt.Errorf("%w: pull_request.base.repo has no owner login or name", preview.ErrMalformedEvent)
	}
	return r, nil
}
