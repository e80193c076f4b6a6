package store

import (
	"strconv"
	"time"
)

// PRKey is the key of a pull request everywhere in the service:
// "owner/repo#number" of the base repository.
func PRKey(owner, repo string, number int) string {
	return owner + "/" + repo + "#" + strconv.Itoa(number)
}

// PullRequest is the desired state of one PR, as the newest delivery about it
// described it. The intake writes it; the reconciler reads it.
type PullRequest struct {
	Key            string // PRKey(BaseOwner, BaseRepo, Number)
	InstallationID int64  // 0 for deliveries from a repository webhook
	BaseOwner      string
	BaseRepo       string
	Number         int
	// HeadOwner/HeadRepo differ from the base for forks and are empty when
	// the fork was deleted. All head fields are empty when the row was made
	// from a comment before any pull_request event: fetch the PR then.
	HeadOwner string
	HeadRepo  string
	Branch    string // head ref
	HeadSHA   string
	BaseRef   string
	Title     string
	Author    string
	Closed    bool
	Draft     bool
	Merged    bool
	Labels    []string
	// Generation grows by one with every delivery that demands work (a push,
	// a label, close, a command, an uninstall). The reconciler records the
	// generation it acted on in Preview.BuiltGeneration.
	Generation int64
	// Command is an unverified request from a PR comment, nil when none.
	Command *Command
	// Uninstalled is set when the App was uninstalled from the installation
	// or the repository was removed from it: its preview must go.
	Uninstalled bool
	// EventUpdatedAt is pull_request.updated_at of the newest event applied;
	// older events never overwrite newer state.
	EventUpdatedAt time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// CommandKind is what a comment asked for.
type CommandKind string

// Commands a PR comment can carry.
const (
	CommandRebuild CommandKind = "rebuild"
	CommandDelete  CommandKind = "delete"
)

// Command is a user's request from a PR comment ("/preview rebuild", the
// rebuild checkbox, "/preview delete"). The intake only records it; the
// reconciler checks that Actor may write to the repository, acts, and calls
// ClearCommand.
type Command struct {
	Kind      CommandKind
	Actor     string // login of the user who asked
	CommentID int64  // the comment that carried the request
	At        time.Time
}

// Status is a preview's lifecycle state. The reconciler may use other values;
// these are the ones the Store's queries know about.
type Status string

// Preview statuses. StatusNone and StatusDeleted are not "active".
const (
	StatusNone     Status = ""
	StatusQueued   Status = "queued"
	StatusBuilding Status = "building"
	StatusReady    Status = "ready"
	StatusFailed   Status = "failed"
	StatusDeleting Status = "deleting"
	StatusDeleted  Status = "deleted"
)

// Preview is the actual state of one PR's preview app, as the reconciler
// last left it.
type Preview struct {
	Key            string
	InstallationID int64 // filled from the PR row when zero on save
	AppName        string
	Status         Status
	Endpoint       string
	ConsoleURL     string
	ProjectID      string
	TenantID       string
	// RunState is the engine's own progress record, opaque to the Store.
	RunState        []byte
	BuiltGeneration int64
	BuiltSHA        string
	CommentID       int64
	DeploymentID    int64
	LastError       string
	CreatedAt       time.Time // set on first save
	UpdatedAt       time.Time // set on every save
	DeletedAt       time.Time
	TTLWarnedAt     time.Time
}

// Active reports whether the preview may exist in the Cloud.
func (p *Preview) Active() bool { return p.Status != StatusNone && p.Status != StatusDeleted }

// Outcome is what the intake did with a delivery.
type Outcome string

// Delivery outcomes.
const (
	OutcomeAccepted  Outcome = "accepted"
	OutcomeDuplicate Outcome = "duplicate"
	OutcomeIgnored   Outcome = "ignored"
	OutcomeRejected  Outcome = "rejected"
)

// Delivery is one webhook delivery as recorded by the intake. (Source, GUID)
// is unique: GitHub reuses the GUID on redelivery, and two Apps (or hooks)
// receive the same GUID for one event.
type Delivery struct {
	Source       string // "app:<id>" or "hook:<id>"
	GUID         string // X-GitHub-Delivery
	Event        string
	Action       string
	Repo         string // "owner/repo"
	PRNumber     int
	Outcome      Outcome
	Reason       string
	ReceivedAt   time.Time
	Redeliveries int // later deliveries of the same (Source, GUID), or of the same body
	// BodyHash is the hex SHA-256 of the payload; written, not read back.
	BodyHash string
}

// Installation is one installation of the GitHub App.
type Installation struct {
	ID      int64
	Account string
	// Repositories lists "owner/repo" when the installation is limited to
	// selected repositories; nil means all (or unknown).
	Repositories []string
	Suspended    bool
	Deleted      bool
}
