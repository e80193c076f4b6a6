// Package ghreport is everything a reviewer sees of a preview on GitHub: one
// sticky pull-request comment, found by a hidden marker and edited in place,
// and a GitHub Deployment whose environment URL makes the PR show "View
// deployment".
//
// It knows nothing of Hasura: it renders a preview.Result. Both front doors
// use it, the Action (one process per workflow run, GITHUB_TOKEN) and the
// webhook service (installation tokens, many PRs at once), so every call is
// careful with GitHub's limits: rate-limit answers are waited out as the
// server asks (up to WithMaxRateLimitWait; a longer wait comes back as a
// *RateLimitError saying until when), 5xx answers are retried with backoff, content writes go
// through a per-installation gate, and a missing permission comes back as
// ErrNoPermission for the caller to warn about rather than fail on.
package ghreport

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// Marker is the hidden first line of our comment; one comment per PR.
const Marker = "<!-- hasura-preview:comment -->"

// minInterval is how long progress edits wait after the previous edit.
// A preview build reports a task change every few seconds; editing on each
// would spend the content-creation budget (about 80 writes a minute per
// installation) on states nobody reads.
const minInterval = 10 * time.Second

// DefaultMaxRateLimitWait is the longest single rate-limit wait Reporter
// accepts; a longer one (a primary limit resetting in most of an hour) is
// returned as a *RateLimitError, since a stale comment is better than a
// stalled run.
const DefaultMaxRateLimitWait = 15 * time.Minute

// Notice kinds; they map to GitHub's Markdown alerts.
const (
	NoticeNote    = "NOTE"
	NoticeWarning = "WARNING"
	NoticeError   = "CAUTION"
)

// Notice is a message shown above the preview's details: a TTL warning, a
// queue position, a configuration error. Text is Markdown written by the
// caller; mentions and HTML comments in it are neutralised all the same,
// because callers quote user-supplied text (a config error) in it.
type Notice struct {
	Kind string // NoticeNote (default), NoticeWarning or NoticeError
	Text string
}

// View is everything one rendering of the comment shows.
type View struct {
	Result preview.Result
	Branch string
	SHA    string
	PR     int
	// Headline replaces the default headline text (status emoji kept).
	Headline string
	Notices  []Notice
	// RebuildCheckbox adds "- [ ] Rebuild this preview"; only the webhook
	// service listens for it being ticked.
	RebuildCheckbox bool
	// LogURL is where the full log lives (the Actions run URL).
	LogURL string
	// Footer is a short Markdown line at the bottom (tool and version).
	Footer string
	// Section is an optional pre-rendered Markdown section (the API
	// review) shown after the task log whatever the build's state. Its
	// renderer escapes what it quotes; an HTML comment opener is still
	// broken here, and one over maxSection is left out with a note.
	Section string
}

// Final reports whether the view is a final state, which is always written.
func (v View) Final() bool { return v.Result.Status.Done() }

// WriteGate lets one content write at a time through. Share one per
// installation (GitHub's content-creation limit is per installation);
// NewWriteGate makes one. A nil gate lets everything through.
type WriteGate chan struct{}

// NewWriteGate returns a gate for one installation.
func NewWriteGate() WriteGate { return make(WriteGate, 1) }

// Do runs write once the gate lets it through, or returns ctx's error.
func (g WriteGate) Do(ctx context.Context, write func() error) error {
	if g != nil {
		select {
		case g <- struct{}{}:
			defer func() { <-g }()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return write()
}

// Option configures a Reporter.
type Option func(*Reporter)

// WithCommentAuthor only adopts marked comments written by login (e.g.
// "github-actions[bot]" or "<app-slug>[bot]"), so that a participant who
// pastes our marker into their own comment cannot make us edit it.
func WithCommentAuthor(login string) Option {
	return func(r *Reporter) { r.author = login }
}

// WithClock sets the clock used for the progress interval and rate-limit
// resets.
func WithClock(now func() time.Time) Option {
	return func(r *Reporter) { r.now = now }
}

// WithSleep sets how the Reporter waits (rate limits, backoff). It must
// return early with ctx's error when ctx ends.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(r *Reporter) { r.sleep = sleep }
}

// WithLogger sets the logger for retries and waits.
func WithLogger(l *slog.Logger) Option {
	return func(r *Reporter) { r.log = l }
}

// WithWriteGate shares a per-installation gate for content writes.
func WithWriteGate(g WriteGate) Option {
	return func(r *Reporter) { r.gate = g }
}

// WithRedact runs every rendered body through redact before it is sent
// (the Action passes its secret masker).
func WithRedact(redact func(string) string) Option {
	return func(r *Reporter) { r.redact = redact }
}

// WithBackOff sets the policy for retrying 5xx answers and network errors.
// The function is called once per API call for a fresh policy; returning
// backoff.Stop from NextBackOff ends the retries.
func WithBackOff(newBackOff func() backoff.BackOff) Option {
	return func(r *Reporter) { r.newBackOff = newBackOff }
}

// WithMaxRateLimitWait sets the longest rate-limit wait accepted.
func WithMaxRateLimitWait(d time.Duration) Option {
	return func(r *Reporter) { r.maxWait = d }
}

// Reporter keeps one PR's sticky comment and deployments. Its methods are
// safe for concurrent use; they take turns.
type Reporter struct {
	owner, repo string
	pr          int

	author     string
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	log        *slog.Logger
	gate       WriteGate
	redact     func(string) string
	newBackOff func() backoff.BackOff
	maxWait    time.Duration

	mu sync.Mutex
	gh *github.Client
	// commentID is our comment once found or created; 0 = look it up.
	commentID int64
	lastBody  string
	lastWrite time.Time
	pending   string
}

// New returns a Reporter for pull request pr of owner/repo.
func New(client *github.Client, owner, repo string, pr int, opts ...Option) *Reporter {
	r := &Reporter{
		owner:      owner,
		repo:       repo,
		pr:         pr,
		gh:         client,
		now:        time.Now,
		sleep:      clock.Sleep,
		log:        slog.New(slog.DiscardHandler),
		redact:     func(s string) string { return s },
		newBackOff: defaultBackOff,
		maxWait:    DefaultMaxRateLimitWait,
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// CommentID returns our comment's id once known (0 before).
func (r *Reporter) CommentID() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.commentID
}

// defaultBackOff retries a 5xx four times over about 15 s. MaxElapsedTime is
// off so that only the injected sleep, never the wall clock, decides.
func defaultBackOff() backoff.BackOff {
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(time.Second),
		backoff.WithMaxInterval(8*time.Second),
		backoff.WithMaxElapsedTime(0),
	)
	return backoff.WithMaxRetries(b, 4)
}
