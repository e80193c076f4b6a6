package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

// Payload shapes: only the fields the intake reads. Decoding into these
// instead of go-github's full types keeps a 30 KB payload to a few small
// allocations.

type user struct {
	Login string `json:"login"`
	Type  string `json:"type"`
}

type repository struct {
	Name     string `json:"name"`
	FullName string `json:"full_name"`
	Owner    user   `json:"owner"`
}

type label struct {
	Name string `json:"name"`
}

type installationRef struct {
	ID int64 `json:"id"`
}

// presence records that a key was in a payload, without keeping its value.
type presence bool

// UnmarshalJSON marks the key present, whatever its value.
func (p *presence) UnmarshalJSON([]byte) error { *p = true; return nil }

// foreignKeys are top-level keys that set other events' payloads apart. The
// event type comes from an unsigned header, so a decoder refuses a payload
// that carries the key of another event (a signed issue_comment body posted
// as "installation" must not read as an uninstall). An event struct's own
// field of the same name hides the one here.
type foreignKeys struct {
	Comment     presence `json:"comment"`
	Issue       presence `json:"issue"`
	PullRequest presence `json:"pull_request"`
	Review      presence `json:"review"`
	Thread      presence `json:"thread"`
}

// foreign names the first key of another event in the payload, or "".
func (f foreignKeys) foreign(event string) string {
	for _, k := range []struct {
		name    string
		present presence
		own     bool // the event's own key
	}{
		{"comment", f.Comment, event == "issue_comment"},
		{"issue", f.Issue, event == "issue_comment"},
		{"pull_request", f.PullRequest, event == "pull_request"},
		{"review", f.Review, false},
		{"thread", f.Thread, false},
	} {
		if bool(k.present) && !k.own {
			return k.name
		}
	}
	return ""
}

type pullRequestEvent struct {
	foreignKeys
	Action       string           `json:"action"`
	PullRequest  *pullRequest     `json:"pull_request"`
	Repository   *repository      `json:"repository"`
	Installation *installationRef `json:"installation"`
}

type pullRequest struct {
	Number    int       `json:"number"`
	State     string    `json:"state"`
	Title     string    `json:"title"`
	Draft     bool      `json:"draft"`
	Merged    bool      `json:"merged"`
	UpdatedAt time.Time `json:"updated_at"`
	User      user      `json:"user"`
	Labels    []label   `json:"labels"`
	Head      prHead    `json:"head"`
	Base      prBase    `json:"base"`
}

type prHead struct {
	Ref  string      `json:"ref"`
	SHA  string      `json:"sha"`
	Repo *repository `json:"repo"` // null when the fork was deleted
}

type prBase struct {
	Ref  string      `json:"ref"`
	Repo *repository `json:"repo"`
}

type issueCommentEvent struct {
	foreignKeys
	Action string `json:"action"`
	Issue  *struct {
		Number      int              `json:"number"`
		Title       string           `json:"title"`
		State       string           `json:"state"`
		User        user             `json:"user"`
		Labels      []label          `json:"labels"`
		PullRequest *json.RawMessage `json:"pull_request"`
	} `json:"issue"`
	Comment *struct {
		ID        int64  `json:"id"`
		Body      string `json:"body"`
		User      user   `json:"user"`
		UpdatedAt string `json:"updated_at"`
	} `json:"comment"`
	Changes *struct {
		Body *struct {
			From string `json:"from"`
		} `json:"body"`
	} `json:"changes"`
	Repository   *repository      `json:"repository"`
	Installation *installationRef `json:"installation"`
	Sender       user             `json:"sender"`
}

type installationEvent struct {
	foreignKeys
	Action       string `json:"action"`
	Installation *struct {
		ID                  int64  `json:"id"`
		Account             user   `json:"account"`
		RepositorySelection string `json:"repository_selection"`
	} `json:"installation"`
	Repositories        []repository  `json:"repositories"`
	RepositoriesAdded   *[]repository `json:"repositories_added"`
	RepositoriesRemoved *[]repository `json:"repositories_removed"`
}

// kind says what applying an intent writes.
type kind int

const (
	kindNone           kind = iota // record the delivery only
	kindPullRequest                // desired state of a PR
	kindCommand                    // a command on a PR
	kindInstallUpsert              // installation created / unsuspended / permissions
	kindInstallSuspend             // installation suspended
	kindInstallDelete              // installation deleted
	kindReposChanged               // repositories added to / removed from an installation
)

// intent is a decoded delivery: what it says and what the intake will do.
type intent struct {
	event, action string
	repo          string // "owner/repo", for the log and the deliveries table
	number        int
	outcome       store.Outcome // accepted or ignored, before applying
	reason        string
	kind          kind
	pr            *store.PullRequest
	demandsWork   bool
	reopened      bool
	command       store.Command
	commandKey    string // the signed comment the command came from
	installation  *store.Installation
	reposAdded    []string
	reposRemoved  []string
}

// errBadPayload marks a payload that is not JSON or not the event's shape;
// the handler answers 400 with its text.
var errBadPayload = errors.New("bad payload")

func badPayload(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errBadPayload}, args...)...)
}

// workActions are the pull_request actions that can change what the preview
// should be; others (assigned, review_requested, ...) are ignored.
var workActions = map[string]bool{
	"opened": true, "reopened": true, "synchronize": true, "ready_for_review": true,
	"converted_to_draft": true, "labeled": true, "unlabeled": true, "closed": true, "edited": true,
}

// decode turns an event's payload into an intent. It never panics and does
// no I/O (a fuzz target guards it); comments are judged against botLogin.
func decode(event string, body []byte, botLogin string) (*intent, error) {
	switch event {
	case "pull_request":
		return decodePullRequest(body)
	case "issue_comment":
		return decodeIssueComment(body, botLogin)
	case "installation", "installation_repositories":
		return decodeInstallation(event, body)
	}
	return &intent{event: event, outcome: store.OutcomeIgnored, reason: "event not handled"}, nil
}

func unmarshal(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return badPayload("malformed JSON at byte %d", syn.Offset)
		case errors.As(err, &typ):
			return badPayload("field %q has the wrong type (%s, want %s)", typ.Field, typ.Value, typ.Type)
		}
		return badPayload("malformed JSON: %v", err)
	}
	return nil
}

func decodePullRequest(body []byte) (*intent, error) {
	var ev pullRequestEvent
	if err := unmarshal(body, &ev); err != nil {
		return nil, err
	}
	in := &intent{event: "pull_request", action: ev.Action}
	p := ev.PullRequest
	switch {
	case ev.foreign("pull_request") != "":
		return nil, badPayload("a pull_request payload has no %q: this is another event's payload", ev.foreign("pull_request"))
	case ev.Action == "":
		return nil, badPayload("action is missing")
	case p == nil:
		return nil, badPayload("pull_request is missing")
	case p.Number <= 0:
		return nil, badPayload("pull_request.number is missing")
	}
	base := p.Base.Repo
	if base == nil {
		base = ev.Repository
	}
	if base == nil || base.Owner.Login == "" || base.Name == "" {
		return nil, badPayload("pull_request.base.repo is missing")
	}
	in.repo, in.number = base.Owner.Login+"/"+base.Name, p.Number
	if !workActions[ev.Action] {
		in.outcome, in.reason = store.OutcomeIgnored, "action needs no work"
		return in, nil
	}
	if p.Head.SHA == "" || p.UpdatedAt.IsZero() {
		return nil, badPayload("pull_request.head.sha or updated_at is missing")
	}
	pr := &store.PullRequest{
		Key:       store.PRKey(base.Owner.Login, base.Name, p.Number),
		BaseOwner: base.Owner.Login, BaseRepo: base.Name, Number: p.Number,
		Branch: p.Head.Ref, HeadSHA: p.Head.SHA, BaseRef: p.Base.Ref,
		Title: p.Title, Author: p.User.Login,
		Closed: p.State == "closed", Draft: p.Draft, Merged: p.Merged,
		Labels: labelNames(p.Labels), EventUpdatedAt: p.UpdatedAt,
	}
	if h := p.Head.Repo; h != nil {
		pr.HeadOwner, pr.HeadRepo = h.Owner.Login, h.Name
	}
	if ev.Installation != nil {
		pr.InstallationID = ev.Installation.ID
	}
	in.outcome, in.kind, in.pr, in.demandsWork = store.OutcomeAccepted, kindPullRequest, pr, true
	in.reopened = ev.Action == "reopened"
	return in, nil
}

func decodeIssueComment(body []byte, botLogin string) (*intent, error) {
	var ev issueCommentEvent
	if err := unmarshal(body, &ev); err != nil {
		return nil, err
	}
	in := &intent{event: "issue_comment", action: ev.Action, outcome: store.OutcomeIgnored}
	switch {
	case ev.foreign("issue_comment") != "":
		return nil, badPayload("an issue_comment payload has no %q: this is another event's payload", ev.foreign("issue_comment"))
	case ev.Action == "":
		return nil, badPayload("action is missing")
	case ev.Issue == nil || ev.Issue.Number <= 0:
		return nil, badPayload("issue.number is missing")
	case ev.Comment == nil:
		return nil, badPayload("comment is missing")
	case ev.Repository == nil || ev.Repository.Owner.Login == "" || ev.Repository.Name == "":
		return nil, badPayload("repository is missing")
	}
	in.repo, in.number = ev.Repository.Owner.Login+"/"+ev.Repository.Name, ev.Issue.Number
	if ev.Issue.PullRequest == nil || string(*ev.Issue.PullRequest) == "null" {
		in.reason = "comment on an issue, not a pull request"
		return in, nil
	}
	if isBot(ev.Sender, botLogin) {
		in.reason = "our own comment"
		return in, nil
	}
	var kind store.CommandKind
	// The signed comment names the command: a replay of it under another
	// delivery GUID is not a second command. An edit of the sticky comment
	// is one command per edit (its updated_at).
	in.commandKey = "comment " + strconv.FormatInt(ev.Comment.ID, 10)
	switch ev.Action {
	case "created":
		k, ok := slashCommand(ev.Comment.Body)
		if !ok {
			in.reason = "not a command"
			return in, nil
		}
		kind = k
	case "edited":
		if !isBot(ev.Comment.User, botLogin) || !strings.Contains(ev.Comment.Body, CommentMarker) {
			in.reason = "edit of a comment that is not ours"
			return in, nil
		}
		if ev.Changes == nil || ev.Changes.Body == nil || !ghreport.RebuildTickedBy(ev.Changes.Body.From, ev.Comment.Body) {
			in.reason = "rebuild box not ticked"
			return in, nil
		}
		kind = store.CommandRebuild
		in.commandKey += " edited " + ev.Comment.UpdatedAt
	default:
		in.reason = "comment action needs no work"
		return in, nil
	}
	in.outcome, in.kind, in.reason = store.OutcomeAccepted, kindCommand, "command "+string(kind)
	in.command = store.Command{Kind: kind, Actor: ev.Sender.Login, CommentID: ev.Comment.ID}
	in.pr = &store.PullRequest{
		Key:       store.PRKey(ev.Repository.Owner.Login, ev.Repository.Name, ev.Issue.Number),
		BaseOwner: ev.Repository.Owner.Login, BaseRepo: ev.Repository.Name, Number: ev.Issue.Number,
		Title: ev.Issue.Title, Author: ev.Issue.User.Login, Closed: ev.Issue.State == "closed",
		Labels: labelNames(ev.Issue.Labels),
	}
	if ev.Installation != nil {
		in.pr.InstallationID = ev.Installation.ID
	}
	return in, nil
}

func decodeInstallation(event string, body []byte) (*intent, error) {
	var ev installationEvent
	if err := unmarshal(body, &ev); err != nil {
		return nil, err
	}
	in := &intent{event: event, action: ev.Action, outcome: store.OutcomeAccepted}
	f := ev.foreign(event)
	if f == "" && event == "installation" && (ev.RepositoriesAdded != nil || ev.RepositoriesRemoved != nil) {
		f = "repositories_added"
	}
	if f != "" {
		return nil, badPayload("an %s payload has no %q: this is another event's payload", event, f)
	}
	if ev.Action == "" {
		return nil, badPayload("action is missing")
	}
	if ev.Installation == nil || ev.Installation.ID <= 0 {
		return nil, badPayload("installation.id is missing")
	}
	// Every other event names the installation by id alone; these two
	// carry the whole installation object, whose account is required
	// (GitHub's webhook schema for "installation" and
	// "installation_repositories").
	if ev.Installation.Account.Login == "" {
		return nil, badPayload("installation.account is missing: this is another event's payload")
	}
	inst := &store.Installation{ID: ev.Installation.ID, Account: ev.Installation.Account.Login}
	in.installation, in.repo = inst, inst.Account
	if event == "installation_repositories" {
		if ev.RepositoriesAdded == nil || ev.RepositoriesRemoved == nil {
			return nil, badPayload("repositories_added or repositories_removed is missing")
		}
		in.reposAdded, in.reposRemoved = fullNames(*ev.RepositoriesAdded), fullNames(*ev.RepositoriesRemoved)
		if ev.Action != "added" && ev.Action != "removed" {
			in.outcome, in.reason = store.OutcomeIgnored, "action needs no work"
			return in, nil
		}
		in.kind = kindReposChanged
		return in, nil
	}
	switch ev.Action {
	case "created", "new_permissions_accepted", "unsuspend":
		if ev.Installation.RepositorySelection == "selected" {
			inst.Repositories = fullNames(ev.Repositories)
		}
		in.kind = kindInstallUpsert
	case "suspend":
		inst.Suspended = true
		in.kind = kindInstallSuspend
	case "deleted":
		in.kind = kindInstallDelete
	default:
		in.outcome, in.reason = store.OutcomeIgnored, "action needs no work"
	}
	return in, nil
}

func isBot(u user, botLogin string) bool {
	return botLogin != "" && strings.EqualFold(u.Login, botLogin)
}

func labelNames(ls []label) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		out = append(out, l.Name)
	}
	return out
}

func fullNames(rs []repository) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		if r.FullName != "" {
			out = append(out, r.FullName)
		}
	}
	return out
}
