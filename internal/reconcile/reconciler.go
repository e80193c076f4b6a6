package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/config"
	"github.com/hasura-preview/hasura-preview/internal/ghapp"
	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/jobs"
	"github.com/hasura-preview/hasura-preview/internal/pgdb"
	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/repoconfig"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

// GitHubApp is what the reconciler needs of the GitHub App; *ghapp.App
// has it.
type GitHubApp interface {
	// Installation returns the installation's client (cached by ghapp).
	Installation(ctx context.Context, id int64) (*github.Client, error)
	// RepoReadToken mints a contents:read token for the Cloud to clone with.
	RepoReadToken(ctx context.Context, installationID int64, owner, repo string) (string, time.Time, error)
	// BotLogin is "<app-slug>[bot]": the author of our comments.
	BotLogin(ctx context.Context) (string, error)
	// Forget drops what is cached for an installation that is gone.
	Forget(installationID int64)
	// RepoInstalled asks whether the installation still reaches the repository.
	RepoInstalled(ctx context.Context, installationID int64, owner, repo string) (bool, error)
}

// Settings are the service-wide knobs the reconciler obeys.
type Settings struct {
	// MaxPreviewsPerInstallation caps the previews per installation (0: none).
	MaxPreviewsPerInstallation int
	// PreviewTTL deletes a preview that long after its last build (0:
	// never; a repository's ttl overrides it), warning TTLWarning before.
	PreviewTTL, TTLWarning time.Duration
	// SecretEnvPrefix (required) and SecretScope (config.SecretScope*) say
	// where repository secrets are looked up in the service's environment.
	SecretEnvPrefix, SecretScope string
	// EnvSigKey keys the env fingerprints kept in the run state (the
	// service's Cloud token, as the action keys its deployment payload).
	EnvSigKey string
}

const (
	// configCacheTTL is how long a repository's configuration is reused.
	configCacheTTL = time.Minute
	// queuePoll is how often a queued preview looks for a free slot.
	queuePoll = 90 * time.Second
	// inFlightPoll is how often a delete waits for a running creation.
	inFlightPoll = 10 * time.Second
	// minAgain keeps an unfinished build from returning 0 (ending its job).
	minAgain = time.Second
)

// SettingsFrom takes the reconciler's settings from the service
// configuration (the engine's deadline belongs on preview.Engine).
func SettingsFrom(c config.Config) Settings {
	return Settings{
		MaxPreviewsPerInstallation: c.MaxPreviewsPerInstallation,
		PreviewTTL:                 c.PreviewTTL,
		TTLWarning:                 c.TTLWarning,
		SecretEnvPrefix:            c.SecretEnvPrefix,
		SecretScope:                c.SecretScope,
		EnvSigKey:                  c.CloudToken,
	}
}

// Deps is what New needs; defaults in brackets. Store, GitHub, Engine
// (with Cloud) and Settings.SecretEnvPrefix are required.
type Deps struct {
	Store    *store.Store
	GitHub   GitHubApp
	Engine   *preview.Engine // builds and deletes apps; its Cloud also answers the sweep
	Settings Settings
	// Getenv looks repository secrets up [os.Getenv].
	Getenv func(string) string
	// NewDatabases makes a repository's database manager [pgdb.New].
	NewDatabases    func(pgdb.Config) (preview.Databases, error)
	Logger          *slog.Logger      // [slog.Default()]
	Now             func() time.Time  // the clock of TTLs, queue order and comment pacing [time.Now]
	Footer          string            // the comment's last line, e.g. "hasura-preview v1.2.3"
	ReporterOptions []ghreport.Option // appended to the reconciler's own
	// Wake enqueues the PR next in line when a slot frees up, waking its
	// snoozed job, as jobs.Client.Enqueue does [nil: its queue poll].
	Wake func(ctx context.Context, prKey string) (jobs.Enqueued, error)
	// Budgets are the installations' GitHub rate limits; its Middleware
	// must be on the installation clients [NewBudgets(Store, Logger, Now)].
	Budgets *Budgets
	// Jitter returns a random duration in [0, n) [math/rand/v2.N].
	Jitter func(n time.Duration) time.Duration
}

// Reconciler implements jobs.Reconciler: its Deps with the defaults, and
// what it remembers between passes (jobs' lease keeps one pass per PR).
type Reconciler struct {
	Deps

	mu      sync.Mutex
	gates   map[int64]ghreport.WriteGate // one per installation: GitHub limits content writes per installation
	reps    map[string]*repEntry         // by PR key, while a build is under way
	configs map[string]cfgEntry          // by owner/repo
	files   map[string]filesEntry        // by PR key@sha
	warned  map[string]bool              // permission warnings already logged
	clones  map[string]string            // by PR key: the read token the running build was given
}

// New checks d and returns the Reconciler.
func New(d Deps) (*Reconciler, error) {
	var problems []string
	if d.Store == nil {
		problems = append(problems, "a store is required")
	}
	if d.GitHub == nil {
		problems = append(problems, "a GitHub App is required")
	}
	if d.Engine == nil || d.Engine.Cloud == nil {
		problems = append(problems, "an engine with a Cloud client is required")
	}
	if d.Settings.SecretEnvPrefix == "" {
		problems = append(problems, "a secret prefix is required (an empty one would expose the service's own environment)")
	}
	if d.Settings.MaxPreviewsPerInstallation < 0 || d.Settings.PreviewTTL < 0 || d.Settings.TTLWarning < 0 {
		problems = append(problems, "the cap, TTL and TTL warning must not be negative")
	}
	if len(problems) > 0 {
		return nil, errors.New("reconcile: " + strings.Join(problems, "; "))
	}
	if d.Getenv == nil {
		d.Getenv = os.Getenv
	}
	if d.NewDatabases == nil {
		d.NewDatabases = postgresDatabases
	}
	d.Logger = cmp.Or(d.Logger, slog.Default())
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Jitter == nil {
		d.Jitter = rand.N[time.Duration] // every caller asks for at least a second
	}
	d.Budgets = cmp.Or(d.Budgets, NewBudgets(d.Store, d.Logger, d.Now))
	return &Reconciler{
		Deps: d, gates: map[int64]ghreport.WriteGate{}, reps: map[string]*repEntry{}, configs: map[string]cfgEntry{},
		files: map[string]filesEntry{}, warned: map[string]bool{}, clones: map[string]string{},
	}, nil
}

func postgresDatabases(c pgdb.Config) (preview.Databases, error) {
	m, err := pgdb.New(c)
	if err != nil {
		return nil, err
	}
	return preview.PostgresDatabases(m), nil
}

// pass is one Reconcile call: the facts next decides from, and what
// carrying out its steps needs.
type pass struct {
	facts
	key   string
	log   *slog.Logger
	dirty bool

	gh      *github.Client // the installation's client; nil: GitHub is out of reach
	online  bool           // the pass asked for gh: a rate-limit error becomes a snooze
	bot     string
	rep     *ghreport.Reporter
	red     *preview.Masker // masks the repository's secrets in comments and logs
	warns   []repoconfig.Problem
	notices []ghreport.Notice
}

// Reconcile brings the preview of the PR keyed prKey one step closer to
// the PR's desired state; again > 0 asks to be called again after that
// long. It loads, asks next, fetches the facts next asks for, and acts.
func (r *Reconciler) Reconcile(ctx context.Context, prKey string) (again time.Duration, err error) {
	pr, err := r.Store.GetPR(ctx, prKey)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	p, err := r.Store.GetPreview(ctx, prKey)
	switch {
	case errors.Is(err, store.ErrNotFound):
		p = &store.Preview{Key: prKey, InstallationID: pr.InstallationID}
	case err != nil:
		return 0, err
	}
	s := decodeState(p.RunState)
	ps := &pass{key: prKey, log: r.Logger.With("pr", prKey), red: &preview.Masker{}, facts: facts{
		pr: pr, p: p, s: s, ttl: r.Settings.PreviewTTL, warning: r.Settings.TTLWarning,
		capacity: r.Settings.MaxPreviewsPerInstallation, secretsRotated: s.secretsRotated(r.fingerprints()), sigKey: r.Settings.EnvSigKey, now: r.Now(),
	}}
	defer func() {
		if ps.online {
			again, err = r.snoozeRateLimited(ctx, ps, again, err)
		}
		if again == 0 { // only a build's progress edits need the Reporter's memory
			r.mu.Lock()
			delete(r.reps, prKey)
			r.mu.Unlock()
		}
		// River stores the job's error: masked like the rest.
		err = maskError(err, ps.red)
	}()
	if until, paused, err := r.Budgets.sharedPause(ctx, pr.InstallationID); err != nil {
		return 0, err
	} else if paused {
		ps.paused = until
	}
	release := func() {} // ends the installation's cap lease, once taken
	defer func() { release() }()
	for {
		st := next(ps.facts)
		if m, s := st.ttl, ps.s; m != nil &&
			(!s.ExpiresAt.Equal(m.expiresAt) || !s.WarnAt.Equal(m.warnAt) || s.KeepLabel != m.keepLabel) {
			s.ExpiresAt, s.WarnAt, s.KeepLabel = m.expiresAt, m.warnAt, m.keepLabel
			ps.dirty = true
		}
		var err error
		switch st.kind {
		case stepCheckInstalled:
			err = r.confirmUninstalled(ctx, ps)
		case stepConnect:
			ps.online = true
			ps.gh, err = r.GitHub.Installation(ctx, ps.pr.InstallationID)
			if errors.Is(err, ghapp.ErrInstallationNotFound) {
				ps.gh, ps.gone, err = nil, true, nil
				break
			}
			if err == nil {
				ps.bot, err = r.GitHub.BotLogin(ctx)
			}
			if err != nil {
				return 0, fmt.Errorf("reconciling %s: %w", prKey, err)
			}
			ps.rep, ps.red = r.reporter(ps)
			ps.connected = true
		case stepFillHead:
			err = r.fillHead(ctx, ps)
		case stepCheckWriter:
			var may bool
			may, err = r.mayWrite(ctx, ps, ps.pr.Command.Actor)
			ps.writer = &may
		case stepCommand:
			err = r.command(ctx, ps, st.accept)
		case stepLoadConfig:
			// While GitHub is paused, the configuration as last read.
			ps.readErr = r.loadConfig(ctx, ps, st.until.IsZero())
			ps.red.Set(secretValues(ps.res))
			ps.configRead = true
		case stepListFiles:
			ps.files, err = r.changedFiles(ctx, ps)
		case stepRename:
			if wait, err := r.destroyRenamed(ctx, ps); wait > 0 || err != nil {
				return wait, err
			}
		case stepCountSlots:
			// Under the installation's lease, so replicas count alike.
			rel, wait, lerr := r.leaseCap(ctx, ps.pr.InstallationID)
			if rel == nil {
				return wait, lerr
			}
			release = rel
			// The slots counted leave this PR out: it holds none.
			mine := waiting{ps.key, cmp.Or(ps.s.QueuedAt, r.Now())}
			var line []waiting
			ps.slots = &slotCount{queuedAt: mine.at}
			ps.slots.running, line, err = r.slots(ctx, ps.pr.InstallationID)
			ps.slots.ahead, _ = slices.BinarySearchFunc(line, mine, compareWaiting)
		default:
			return r.act(ctx, ps, st, release)
		}
		if err != nil {
			return 0, err
		}
	}
}

// act carries out a step of next that ends the pass. release ends the
// installation's cap lease once the step's decision is saved.
func (r *Reconciler) act(ctx context.Context, ps *pass, st step, release func()) (time.Duration, error) {
	switch st.kind {
	case stepSettle:
		ps.log.WarnContext(ctx, st.reason+": nothing to act with")
		return r.settle(ctx, ps)
	case stepWait:
		return r.resumeWait(st.until), nil
	case stepRetry:
		return 0, st.err
	case stepRemove:
		if st.holdTTL {
			ps.s.Hold, ps.dirty = &hold{SHA: ps.pr.HeadSHA, Kind: holdTTL}, true
		}
		wait, err := r.remove(ctx, ps, st.reason)
		if err != nil || st.until.IsZero() || ps.p.Active() {
			return wait, err
		}
		// Deleted while GitHub is paused: what is shown follows the reset.
		return r.resumeWait(st.until), nil
	case stepBadConfig:
		return r.badConfig(ctx, ps, st.problems)
	case stepQueue:
		return r.queue(ctx, ps, st, release)
	case stepStart:
		return r.start(ctx, ps, release)
	case stepPoll:
		return r.step(ctx, ps, st.until)
	case stepUpdateEnv:
		return r.updateEnv(ctx, ps)
	case stepSteady:
		return r.steady(ctx, ps, st)
	}
	return 0, fmt.Errorf("reconciling %s: next asked for %s, which ends no pass", ps.key, st.kind)
}

// confirmUninstalled asks GitHub whether the App really lost the PR's
// repository; when it did not, the PR and its installation are reinstated.
func (r *Reconciler) confirmUninstalled(ctx context.Context, ps *pass) (err error) {
	pr := ps.pr
	ps.installed, err = r.GitHub.RepoInstalled(ctx, pr.InstallationID, pr.BaseOwner, pr.BaseRepo)
	if err != nil {
		return fmt.Errorf("confirming that the App left %s/%s: %w", pr.BaseOwner, pr.BaseRepo, err)
	}
	if ps.gone = !ps.installed; ps.gone {
		return nil
	}
	ps.log.WarnContext(ctx, "a delivery said the App was removed from the repository, but GitHub says it is installed: nothing is deleted")
	if err := r.Store.Reinstate(ctx, pr.Key, pr.InstallationID); err != nil {
		return err
	}
	ps.pr, err = r.Store.GetPR(ctx, pr.Key)
	return err
}

// save writes the preview row with the state, masked: the dashboard reads
// it, and the Cloud's errors may quote the repository's secrets.
func (r *Reconciler) save(ctx context.Context, ps *pass) error {
	ps.p.LastError = ps.red.Mask(ps.p.LastError)
	ps.p.RunState = ps.s.encodeMasked(ps.red.Mask)
	if err := r.Store.SavePreview(ctx, ps.p); err != nil {
		return err
	}
	ps.dirty = false
	return nil
}

// settle ends a pass that leaves nothing running: it shows the final state
// and records the generation acted on, so the sweep does not send it back.
func (r *Reconciler) settle(ctx context.Context, ps *pass) (time.Duration, error) {
	if err := r.publish(ctx, ps); err != nil {
		return 0, err
	}
	if ps.p.BuiltGeneration != ps.pr.Generation {
		ps.p.BuiltGeneration = ps.pr.Generation
		ps.dirty = true
	}
	if !ps.dirty {
		return 0, nil
	}
	return 0, r.save(ctx, ps)
}

func closedReason(pr *store.PullRequest) string {
	if pr.Merged {
		return "The pull request was merged."
	}
	return "The pull request was closed."
}

func holdReason(s *state, ttl time.Duration) string {
	if s.Hold.Kind == holdTTL {
		return fmt.Sprintf("The preview expired (it is kept for %s after its last build). Push a commit, add the %q label or comment /preview rebuild to bring it back.",
			formatTTL(ttl), s.KeepLabel)
	}
	by := ""
	if s.Hold.By != "" {
		by = " by " + s.Hold.By
	}
	return "Deleted on request" + by + ". Push a commit or comment /preview rebuild to bring it back."
}

func formatTTL(d time.Duration) string {
	if d%(24*time.Hour) == 0 && d > 0 {
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	return d.String()
}

// sentence makes a reason from preview.Decide a sentence for the comment.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
