// Package action is the GitHub Action: from the inputs and the event the
// runner gives, it builds or deletes the pull request's preview app through
// the preview engine, reports it through ghreport (PR comment, deployment)
// and writes outputs, a step summary and an exit status.
package action

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/sethvargo/go-githubactions"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/ghevent"
	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/pgdb"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// RunGrace is how long a run may go on past its timeout input, at which the
// engine gives up: the comment, deployment and outputs still need writing.
const RunGrace = 2 * time.Minute

// errRunTimeout is the cause of a run stopped at its timeout plus RunGrace.
var errRunTimeout = errors.New("the run passed its timeout input plus the grace for reporting")

// Deps are the runner's world. Tests fill them in; main uses the process's.
type Deps struct {
	Getenv func(string) string
	// Stdout receives workflow commands and the log.
	Stdout io.Writer
	// Now and Sleep default to the real clock.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Version is shown in the comment's footer.
	Version string
}

// target is the pull request (or branch) the run is about: Owner/Name hold
// the branch (the head repository for a fork), BaseOwner/BaseName the PR
// (comments and deployments go there). Number and Event are zero without a
// pull request.
type target struct {
	preview.Repo
	Event *ghevent.PullRequestEvent
}

// Run is the whole action. It returns nil on success or a clean skip.
func Run(ctx context.Context, d Deps) error {
	if d.Getenv == nil {
		d.Getenv = os.Getenv
	}
	if d.Stdout == nil {
		d.Stdout = os.Stdout
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Sleep == nil {
		d.Sleep = clock.Sleep
	}
	gha := githubactions.New(githubactions.WithGetenv(d.Getenv), githubactions.WithWriter(d.Stdout))
	r := &runner{d: d, gha: gha, secrets: &preview.Masker{}}
	return r.run(ctx)
}

type runner struct {
	d       Deps
	gha     *githubactions.Action
	secrets *preview.Masker
	in      Inputs
	t       target
	name    string
	gh      *github.Client // set by setupReporter when there is a token
	rep     *ghreport.Reporter
	// comment and deploy say what rep is for (rep is nil when neither
	// is on); each turns off after a permission warning.
	comment, deploy bool
	deployID        int64
	logURL          string
	// api is the API review running beside the build (nil when none).
	api *apiReview
}

func (r *runner) run(ctx context.Context) error {
	in, err := readInputs(r.gha.GetInput, r.d.Getenv)
	r.in = in
	// Masks first: nothing below may print a secret unmasked.
	r.registerSecrets()
	if err != nil {
		return r.fail("Invalid inputs", err)
	}
	// Every wait below ends by then, whatever a server answers.
	ctx, cancel := context.WithTimeoutCause(ctx, in.Timeout+RunGrace, errRunTimeout)
	defer cancel()
	for _, w := range in.EnvWarnings {
		r.gha.Warningf("hasuraEnv: %s", w)
	}
	ghctx, err := r.gha.Context()
	if err != nil {
		return r.fail("Reading the workflow context", err)
	}
	if r.t, err = readTarget(ghctx, r.d.Getenv); err != nil {
		return r.fail("Reading the event", err)
	}
	if ghctx.ServerURL != "" && ghctx.Repository != "" && ghctx.RunID != 0 {
		r.logURL = fmt.Sprintf("%s/%s/actions/runs/%d", ghctx.ServerURL, ghctx.Repository, ghctx.RunID)
	}
	tmpl := in.NameTemplate
	if r.t.Number == 0 {
		// The default {repo}-pr-{pr} would give every branch's preview the
		// name <repo>-pr-0: without a pull request, name it by its branch.
		if strings.Contains(tmpl, "{pr}") {
			return r.fail("Naming the preview app", fmt.Errorf("the name input %q uses {pr}, but this run is not for a pull request: use {branch}, or run on pull_request", tmpl))
		}
		tmpl = cmp.Or(tmpl, "{repo}-{branch}")
	}
	r.name, err = preview.AppName(tmpl, preview.NameVars{Owner: r.t.BaseOwner, Repo: r.t.BaseName, PR: r.t.Number, Branch: r.t.Branch})
	if err != nil {
		return r.fail("Naming the preview app", err)
	}

	plan := r.plan()
	if plan.Action == preview.ActionSkip {
		r.gha.Noticef("No preview for this run: %s", plan.Reason)
		return r.outputs(map[string]string{"status": "skipped", "projectName": r.name})
	}
	if in.CloudToken == "" {
		if r.isFork() {
			// Workflows triggered by a fork's pull_request get no secrets.
			r.gha.Noticef("No preview: HASURA_CLOUD_ACCESS_TOKEN is not available to workflows run for pull requests from forks.")
			return r.outputs(map[string]string{"status": "skipped", "projectName": r.name})
		}
		return r.fail("Missing Hasura Cloud token", errors.New("set the HASURA_CLOUD_ACCESS_TOKEN environment variable (or the hasuraCloudAccessToken input) from a secret"))
	}
	client, err := cloud.New(in.CloudToken, cloud.WithEndpoint(in.Endpoint), cloud.WithLogger(r.logger()))
	if err != nil {
		return r.fail("Hasura Cloud client", err)
	}
	engine := &preview.Engine{Cloud: client, Now: r.d.Now, Sleep: r.d.Sleep, Deadline: in.Timeout, Log: r.logger()}
	r.setupReporter(ctx, plan.Action == preview.ActionEnsure)

	var dbs preview.Databases
	if in.Postgres != nil {
		m, err := pgdb.New(*in.Postgres)
		if err != nil {
			return r.fail("postgresDBConfig", err)
		}
		dbs = preview.PostgresDatabases(m)
	}
	if plan.Action == preview.ActionDestroy {
		return r.destroy(ctx, engine, dbs)
	}
	if in.GitHubToken == "" {
		return r.fail("Missing GitHub token", errors.New("the Cloud needs a token to read the branch: set GITHUB_TOKEN in env (or the github-token input)"))
	}
	return r.ensure(ctx, engine, dbs)
}

// plan decides between ensure, destroy and skip from the delete input and
// the event.
func (r *runner) plan() preview.Plan {
	switch r.in.Delete {
	case DeleteTrue:
		return preview.Plan{Action: preview.ActionDestroy, Reason: "delete: true"}
	case DeleteFalse:
		if r.isFork() && !r.in.AllowForks {
			return preview.Plan{Action: preview.ActionSkip, Reason: "pull requests from forks are skipped: their migrations are untrusted code (set allow-forks: true to change this)"}
		}
		return preview.Plan{Action: preview.ActionEnsure, Reason: "delete: false"}
	}
	if r.t.Event == nil {
		return preview.Plan{Action: preview.ActionEnsure, Reason: "not a pull_request event"}
	}
	// The workflow's own `on:` filter chooses which events run; drafts are
	// not skipped here, as with the official action.
	plan := preview.Decide(ghevent.Event(r.t.Event), preview.Policy{AllowForks: r.in.AllowForks})
	if plan.Action == preview.ActionDestroy && r.isFork() && !r.in.AllowForks {
		// On pull_request_target a fork's close would otherwise delete
		// whatever app its name (its branch's, say) expands to.
		return preview.Plan{Action: preview.ActionSkip, Reason: "pull requests from forks get no preview, so a fork's close deletes nothing (set allow-forks: true to change this)"}
	}
	return plan
}

func (r *runner) isFork() bool {
	return r.t.Event != nil && (r.t.Owner != r.t.BaseOwner || r.t.Name != r.t.BaseName)
}

// readTarget finds the PR and branch from the event file, or, for other
// events, from GITHUB_HEAD_REF / GITHUB_REF as the official action does.
func readTarget(ghctx *githubactions.GitHubContext, getenv func(string) string) (target, error) {
	owner, repo := ghctx.Repo()
	t := target{Repo: preview.Repo{Owner: owner, Name: repo, BaseOwner: owner, BaseName: repo, SHA: ghctx.SHA}}
	if (ghctx.EventName == "pull_request" || ghctx.EventName == "pull_request_target" || ghctx.EventName == "") && ghctx.EventPath != "" {
		raw, err := os.ReadFile(ghctx.EventPath)
		if err != nil {
			return t, fmt.Errorf("reading GITHUB_EVENT_PATH: %w", err)
		}
		ev, err := ghevent.Decode(raw)
		if err != nil {
			return t, fmt.Errorf("the event file is not a pull_request event: %w", err)
		}
		if ev.PullRequest != nil {
			tr, err := ghevent.Target(ev)
			return target{Repo: tr, Event: ev}, err
		}
	}
	t.Branch = cmp.Or(getenv("GITHUB_HEAD_REF"), strings.TrimPrefix(ghctx.Ref, "refs/heads/"))
	if t.Branch == "" || strings.HasPrefix(t.Branch, "refs/") {
		return t, errors.New("cannot tell the branch: run on pull_request or on a branch push")
	}
	return t, nil
}

func (r *runner) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(r.d.Stdout, &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		// Errors (KindAny) print through fmt too, and a wrapped error can
		// quote a secret: a transport error, a body the API echoed.
		if k := a.Value.Kind(); k != slog.KindGroup && k != slog.KindLogValuer {
			if s := a.Value.String(); r.secrets.Mask(s) != s {
				a.Value = slog.StringValue(r.secrets.Mask(s))
			}
		}
		return a
	}}))
}

// fail reports err as a workflow error and returns it.
func (r *runner) fail(title string, err error) error {
	msg := r.secrets.Mask(err.Error())
	r.gha.WithFieldsMap(map[string]string{"title": title}).Errorf("%s", msg)
	return fmt.Errorf("%s: %w", title, err)
}

// outputs writes every output through GITHUB_OUTPUT.
func (r *runner) outputs(kv map[string]string) error {
	path := r.d.Getenv("GITHUB_OUTPUT")
	if path == "" {
		r.gha.Warningf("GITHUB_OUTPUT is not set: outputs are not written")
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		if err := writeFileCommand(path, k, kv[k]); err != nil {
			return r.fail("Writing outputs", err)
		}
	}
	return nil
}
