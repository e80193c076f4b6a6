// Package ghevent reads GitHub's webhook payloads for both front doors (the
// intake and the action) and turns a pull_request event into the preview
// domain's terms, so that internal/preview knows nothing of GitHub's API.
package ghevent

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// BadPayload is the error for a payload that is not JSON or not its
// event's shape.
func BadPayload(format string, args ...any) error {
	return fmt.Errorf("bad payload: "+format, args...)
}

// The payload types hold only the fields the service reads, so that a
// 30 KB payload decodes into a few small allocations.

// User is a payload's user or account.
type User struct {
	Login string `json:"login"`
}

// Repository is a payload's repository.
type Repository struct {
	Name     string `json:"name"`
	FullName string `json:"full_name"`
	Owner    User   `json:"owner"`
}

// Label is an issue's or a pull request's label.
type Label struct {
	Name string `json:"name"`
}

// Installation is the App installation a delivery is for.
type Installation struct {
	ID int64 `json:"id"`
}

// PullRequestEvent is a pull_request payload.
type PullRequestEvent struct {
	Keys
	Action       string       `json:"action"`
	Number       int          `json:"number"`
	Label        Label        `json:"label"` // the label added or removed
	PullRequest  *PullRequest `json:"pull_request"`
	Repository   *Repository  `json:"repository"`
	Installation Installation `json:"installation"`
}

// PullRequest is a payload's pull_request object.
type PullRequest struct {
	Number    int       `json:"number"`
	State     string    `json:"state"`
	Title     string    `json:"title"`
	Draft     bool      `json:"draft"`
	Merged    bool      `json:"merged"`
	UpdatedAt time.Time `json:"updated_at"`
	User      User      `json:"user"`
	Labels    []Label   `json:"labels"`
	Head      *Branch   `json:"head"`
	Base      Branch    `json:"base"`
}

// Branch is a pull request's head or base.
type Branch struct {
	Ref  string      `json:"ref"`
	SHA  string      `json:"sha"`
	Repo *Repository `json:"repo"` // null when the fork was deleted
}

// presence records that a key was in a payload, without keeping its value.
type presence bool

// UnmarshalJSON marks the key present, whatever its value.
func (p *presence) UnmarshalJSON([]byte) error { *p = true; return nil }

// Keys are the top-level keys that set events' payloads apart. A payload
// type embeds Keys; its own field of the same name hides the one here, so
// a key left in Keys is another event's.
type Keys struct {
	Comment     presence `json:"comment"`
	Issue       presence `json:"issue"`
	PullRequest presence `json:"pull_request"`
	Review      presence `json:"review"`
	Thread      presence `json:"thread"`
}

func (k Keys) foreign() string {
	names := []string{"comment", "issue", "pull_request", "review", "thread"}
	for i, present := range []presence{k.Comment, k.Issue, k.PullRequest, k.Review, k.Thread} {
		if present {
			return names[i]
		}
	}
	return ""
}

// Payload is a payload type: a struct that embeds Keys.
type Payload interface{ foreign() string }

// Read decodes the payload of event into v. The event type comes from an
// unsigned header, so another event's payload is refused: a signed
// issue_comment body posted as "installation" must not read as an
// uninstall. Errors are BadPayload's, in the payload's terms.
func Read(event string, body []byte, v Payload) error {
	if err := json.Unmarshal(body, v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return BadPayload("malformed JSON at byte %d", syn.Offset)
		case errors.As(err, &typ):
			return BadPayload("field %q has the wrong type (%s, want %s)", typ.Field, typ.Value, typ.Type)
		}
		return BadPayload("malformed JSON: %v", err)
	}
	if k := v.foreign(); k != "" {
		return BadPayload("%s payloads have no %q: this is another event's payload", event, k)
	}
	return nil
}

// Decode reads a pull_request payload.
func Decode(body []byte) (*PullRequestEvent, error) {
	var ev PullRequestEvent
	if err := Read("pull_request", body, &ev); err != nil {
		return nil, err
	}
	return &ev, nil
}

// BaseRepo is the repository the pull request belongs to.
func (ev *PullRequestEvent) BaseRepo() *Repository {
	if ev.PullRequest != nil && ev.PullRequest.Base.Repo != nil {
		return ev.PullRequest.Base.Repo
	}
	return ev.Repository
}

// LabelNames lists the labels' names.
func LabelNames(ls []Label) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		out = append(out, l.Name)
	}
	return out
}

// Event is what preview.Decide needs of a pull_request event; Decide skips
// a nil event or one without a pull request.
func Event(ev *PullRequestEvent) preview.Event {
	if ev == nil {
		return preview.Event{}
	}
	out := preview.Event{Action: ev.Action, Label: ev.Label.Name}
	pr := ev.PullRequest
	if pr == nil {
		return out
	}
	out.Closed, out.Merged, out.Draft, out.Labels = pr.State == "closed", pr.Merged, pr.Draft, LabelNames(pr.Labels)
	if pr.Head != nil && pr.Head.Repo != nil {
		out.HeadRepo = pr.Head.Repo.FullName
	}
	if pr.Base.Repo != nil {
		out.BaseRepo = pr.Base.Repo.FullName
	}
	return out
}

// Target extracts where the preview's code lives. The branch exists only in
// the head repository, so for a fork the owner and name come from
// pull_request.head.repo rather than from the event's repository.
func Target(ev *PullRequestEvent) (preview.Repo, error) {
	switch {
	case ev == nil:
		return preview.Repo{}, fmt.Errorf("%w: no event", preview.ErrMalformedEvent)
	case ev.PullRequest == nil:
		return preview.Repo{}, fmt.Errorf("%w: no pull_request object", preview.ErrMalformedEvent)
	case ev.PullRequest.Head == nil:
		return preview.Repo{}, fmt.Errorf("%w: pull request has no head", preview.ErrMalformedEvent)
	case ev.PullRequest.Head.Repo == nil:
		return preview.Repo{}, fmt.Errorf("%w: pull_request.head.repo is missing (the fork was probably deleted)", preview.ErrMalformedEvent)
	}
	head := ev.PullRequest.Head
	r := preview.Repo{Owner: head.Repo.Owner.Login, Name: head.Repo.Name, Branch: head.Ref, SHA: head.SHA,
		Number: cmp.Or(ev.PullRequest.Number, ev.Number)}
	if base := ev.BaseRepo(); base != nil {
		r.BaseOwner, r.BaseName = base.Owner.Login, base.Name
	}
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
