// Package ghreport is everything a reviewer sees of a preview on GitHub: one
// sticky pull-request comment, found by a hidden marker and edited in place,
// and a GitHub Deployment whose environment URL makes the PR show "View
// deployment". It renders a preview.Result and knows nothing of Hasura.
//
// Both front doors use it, so every call is careful with GitHub's limits:
// rate-limit answers are waited out as the server asks (a longer wait than
// WithMaxRateLimitWait comes back as a *RateLimitError), 5xx answers are
// retried with backoff, content writes go through a per-installation gate,
// and a missing permission comes back as ErrNoPermission.
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

// minInterval is how long progress edits wait after the previous edit, so
// that a build's task changes do not spend the installation's content-write
// budget on states nobody reads.
const minInterval = 10 * time.Second

// defaultMaxRateLimitWait is the longest rate-limit wait a Reporter takes:
// a stale comment is better than a stalled run.
const defaultMaxRateLimitWait = 15 * time.Minute

// Notice kinds; they map to GitHub's Markdown alerts.
const (
	NoticeNote    = "NOTE"
	NoticeWarning = "WARNING"
	NoticeError   = "CAUTION"
)

// Notice is a message shown above the preview's details (a TTL warning, a
// queue position, a configuration error). Text is the caller's Markdown;
// mentions and HTML comments in it are neutralised, as it may quote users.
type Notice struct {
	Kind string // NoticeNote (default), NoticeWarning or NoticeError
	Text string
}

// View is everything one rendering of the comment shows.
type View struct {
	Result   preview.Result
	Branch   string
	SHA      string
	PR       int
	Headline string // replaces the default headline text (status emoji kept)
	Notices  []Notice
	// RebuildCheckbox adds "- [ ] Rebuild this preview"; only the webhook
	// service listens for it being ticked.
	RebuildCheckbox bool
	LogURL          string // where the full log lives (the Actions run URL)
	Footer          string // a short Markdown line at the bottom (tool and version)
	// Section is an optional pre-rendered Markdown section (the API
	// review) shown after the task log; one over maxSection is left out.
	Section string
}

// WriteGate lets one content write at a time through; share one per
// installation, as GitHub limits content writes per installation. A nil
// gate lets everything through.
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

// WithCommentAuthor only adopts marked comments written by login, so that a
// participant who pastes our marker cannot make us edit their comment.
func WithCommentAuthor(login string) Option {
	return func(r *Reporter) { r.author = login }
}

// WithClock sets the clock of the progress interval and rate-limit resets.
func WithClock(now func() time.Time) Option {
	return func(r *Reporter) { r.now = now }
}

// WithSleep sets how the Reporter waits (clock.Sleep by default).
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

// WithRedact runs every rendered text through redact (see RenderMasked).
func WithRedact(redact func(string) string) Option {
	return func(r *Reporter) { r.redact = redact }
}

// WithBackOff sets the policy (one per API call) for retrying 5xx answers.
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
		maxWait:    defaultMaxRateLimitWait,
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

// defaultBackOff retries a 5xx four times over about 15 s of the sleep.
func defaultBackOff() backoff.BackOff {
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(time.Second),
		backoff.WithMaxInterval(8*time.Second),
		backoff.WithMaxElapsedTime(0),
	)
	return backoff.WithMaxRetries(b, 4)
}
