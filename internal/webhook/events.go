package webhook

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/hasura-preview/hasura-preview/internal/ghevent"
	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

// The intake's payload types besides pull_request's (ghevent.Decode).

type issueCommentEvent struct {
	ghevent.Keys
	Action string `json:"action"`
	Issue  *struct {
		Number      int              `json:"number"`
		Title       string           `json:"title"`
		State       string           `json:"state"`
		User        ghevent.User     `json:"user"`
		Labels      []ghevent.Label  `json:"labels"`
		PullRequest *json.RawMessage `json:"pull_request"`
	} `json:"issue"`
	Comment *struct {
		ID        int64        `json:"id"`
		Body      string       `json:"body"`
		User      ghevent.User `json:"user"`
		UpdatedAt string       `json:"updated_at"`
	} `json:"comment"`
	Changes *struct {
		Body *struct {
			From string `json:"from"`
		} `json:"body"`
	} `json:"changes"`
	Repository   *ghevent.Repository  `json:"repository"`
	Installation ghevent.Installation `json:"installation"`
	Sender       ghevent.User         `json:"sender"`
}

type installationEvent struct {
	ghevent.Keys
	Action       string `json:"action"`
	Installation *struct {
		ID                  int64        `json:"id"`
		Account             ghevent.User `json:"account"`
		RepositorySelection string       `json:"repository_selection"`
	} `json:"installation"`
	Repositories        []ghevent.Repository  `json:"repositories"`
	RepositoriesAdded   *[]ghevent.Repository `json:"repositories_added"`
	RepositoriesRemoved *[]ghevent.Repository `json:"repositories_removed"`
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
	action       string
	repo         string // "owner/repo", for the log and the deliveries table
	number       int
	outcome      store.Outcome // accepted or ignored, before applying
	reason       string
	kind         kind
	pr           *store.PullRequest
	reopened     bool
	command      store.Command
	commandKey   string // the signed comment the command came from
	installation *store.Installation
	reposAdded   []string
	reposRemoved []string
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
	return &intent{outcome: store.OutcomeIgnored, reason: "event not handled"}, nil
}

func decodePullRequest(body []byte) (*intent, error) {
	ev, err := ghevent.Decode(body)
	if err != nil {
		return nil, err
	}
	p, base := ev.PullRequest, ev.BaseRepo()
	switch {
	case ev.Action == "":
		return nil, ghevent.BadPayload("action is missing")
	case p == nil:
		return nil, ghevent.BadPayload("pull_request is missing")
	case p.Number <= 0:
		return nil, ghevent.BadPayload("pull_request.number is missing")
	case base == nil || base.Owner.Login == "" || base.Name == "":
		return nil, ghevent.BadPayload("pull_request.base.repo is missing")
	}
	in := &intent{action: ev.Action, repo: base.Owner.Login + "/" + base.Name, number: p.Number}
	if !workActions[ev.Action] {
		in.outcome, in.reason = store.OutcomeIgnored, "action needs no work"
		return in, nil
	}
	if p.Head == nil || p.Head.SHA == "" || p.UpdatedAt.IsZero() {
		return nil, ghevent.BadPayload("pull_request.head.sha or updated_at is missing")
	}
	pr := &store.PullRequest{
		Key: store.PRKey(base.Owner.Login, base.Name, p.Number), InstallationID: ev.Installation.ID,
		BaseOwner: base.Owner.Login, BaseRepo: base.Name, Number: p.Number,
		Branch: p.Head.Ref, HeadSHA: p.Head.SHA, BaseRef: p.Base.Ref,
		Title: p.Title, Author: p.User.Login,
		Closed: p.State == "closed", Draft: p.Draft, Merged: p.Merged,
		Labels: ghevent.LabelNames(p.Labels), EventUpdatedAt: p.UpdatedAt,
	}
	if h := p.Head.Repo; h != nil {
		pr.HeadOwner, pr.HeadRepo = h.Owner.Login, h.Name
	}
	in.outcome, in.kind, in.pr, in.reopened = store.OutcomeAccepted, kindPullRequest, pr, ev.Action == "reopened"
	return in, nil
}

func decodeIssueComment(body []byte, botLogin string) (*intent, error) {
	var ev issueCommentEvent
	if err := ghevent.Read("issue_comment", body, &ev); err != nil {
		return nil, err
	}
	in := &intent{action: ev.Action, outcome: store.OutcomeIgnored}
	switch {
	case ev.Action == "":
		return nil, ghevent.BadPayload("action is missing")
	case ev.Issue == nil || ev.Issue.Number <= 0:
		return nil, ghevent.BadPayload("issue.number is missing")
	case ev.Comment == nil:
		return nil, ghevent.BadPayload("comment is missing")
	case ev.Repository == nil || ev.Repository.Owner.Login == "" || ev.Repository.Name == "":
		return nil, ghevent.BadPayload("repository is missing")
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
		if !isBot(ev.Comment.User, botLogin) || !strings.Contains(ev.Comment.Body, ghreport.Marker) {
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
		Labels: ghevent.LabelNames(ev.Issue.Labels), InstallationID: ev.Installation.ID,
	}
	return in, nil
}

func decodeInstallation(event string, body []byte) (*intent, error) {
	var ev installationEvent
	if err := ghevent.Read(event, body, &ev); err != nil {
		return nil, err
	}
	in := &intent{action: ev.Action, outcome: store.OutcomeAccepted}
	if event == "installation" && (ev.RepositoriesAdded != nil || ev.RepositoriesRemoved != nil) {
		return nil, ghevent.BadPayload("installation payloads have no \"repositories_added\": this is another event's payload")
	}
	if ev.Action == "" {
		return nil, ghevent.BadPayload("action is missing")
	}
	if ev.Installation == nil || ev.Installation.ID <= 0 {
		return nil, ghevent.BadPayload("installation.id is missing")
	}
	// Every other event names the installation by id alone; these two
	// carry the whole installation object, whose account is required
	// (GitHub's webhook schema for "installation" and
	// "installation_repositories").
	if ev.Installation.Account.Login == "" {
		return nil, ghevent.BadPayload("installation.account is missing: this is another event's payload")
	}
	inst := &store.Installation{ID: ev.Installation.ID, Account: ev.Installation.Account.Login}
	in.installation, in.repo = inst, inst.Account
	if event == "installation_repositories" {
		if ev.RepositoriesAdded == nil || ev.RepositoriesRemoved == nil {
			return nil, ghevent.BadPayload("repositories_added or repositories_removed is missing")
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

// slashCommand reads "/preview rebuild" or "/preview delete" from the
// comment's first line.
func slashCommand(body string) (store.CommandKind, bool) {
	line, _, _ := strings.Cut(body, "\n")
	f := strings.Fields(line)
	if len(f) != 2 || !strings.EqualFold(f[0], "/preview") {
		return "", false
	}
	switch strings.ToLower(f[1]) {
	case "rebuild":
		return store.CommandRebuild, true
	case "delete":
		return store.CommandDelete, true
	}
	return "", false
}

func isBot(u ghevent.User, botLogin string) bool {
	return botLogin != "" && strings.EqualFold(u.Login, botLogin)
}

func fullNames(rs []ghevent.Repository) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		if r.FullName != "" {
			out = append(out, r.FullName)
		}
	}
	return out
}
