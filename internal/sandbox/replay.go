package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

// Replay's pacing: stepTimeout bounds how long it waits for one
// delivery's work, and replayPoll is how often it reads comments and Idle.
const (
	stepTimeout = 3 * time.Minute
	replayPoll  = 100 * time.Millisecond
)

// replayClient sends the deliveries; a hung service fails the step.
var replayClient = &http.Client{Timeout: 30 * time.Second}

// Target is the running service Replay drives.
type Target struct {
	// WebhookURL is the service's POST /webhook.
	WebhookURL string
	// Secret signs the deliveries; AppID fills the App headers.
	Secret []byte
	AppID  int64
	// Idle reports whether the service has no reconcile work pending: a
	// step has settled when it does.
	Idle func(ctx context.Context) (bool, error)
}

// step is one delivery of the lifecycle and what must hold once it settled.
type step struct {
	pr      PullRequest
	say     string
	prepare func(gh *ghsim.Server)
	check   func(w io.Writer) error
}

// Replay sends the pull request's open → synchronize → close lifecycle to
// the service, waiting for each step to settle, and writes to w every
// version of the PR comment as it changes and the deployments after each
// step. It fails when a delivery is refused, a step does not settle in
// time, or the Cloud does not hold what the step should have left there.
func (e *Env) Replay(ctx context.Context, w io.Writer, t Target) error {
	// Timestamps from now, one second apart (GitHub's resolution): events
	// older than what a reused database holds would be ignored as stale.
	t0 := time.Now().UTC().Truncate(time.Second)
	pushed := FakeSHA("sandbox changes 2 " + t0.String())
	steps := []step{
		{
			pr:    PullRequest{Action: "opened", SHA: e.HeadSHA, UpdatedAt: t0},
			say:   "pull request opened",
			check: e.expectProjects(1, "the preview app was not created"),
		},
		{
			pr:  PullRequest{Action: "synchronize", SHA: pushed, Before: e.HeadSHA, UpdatedAt: t0.Add(time.Second)},
			say: "new commit pushed",
			prepare: func(gh *ghsim.Server) {
				gh.UpdatePull(Owner, Repo, PRNumber, func(s *ghsim.PullSpec) { s.HeadSHA = pushed })
			},
			check: e.expectProjects(1, "the preview app is gone after a push"),
		},
		{
			pr:      PullRequest{Action: "closed", SHA: pushed, UpdatedAt: t0.Add(2 * time.Second)},
			say:     "pull request closed",
			prepare: func(gh *ghsim.Server) { gh.SetPullState(Owner, Repo, PRNumber, "closed") },
			check:   e.expectProjects(0, "the preview app was not deleted"),
		},
	}
	fmt.Fprintf(w, "sandbox: replaying %s/%s#%d (branch %s): opened → synchronize → closed\n", Owner, Repo, PRNumber, Branch)
	seen := map[int64]string{}
	versions := 0
	for _, s := range steps {
		if err := e.runStep(ctx, w, t, s, seen, &versions); err != nil {
			return err
		}
	}
	return nil
}

func (e *Env) runStep(ctx context.Context, w io.Writer, t Target, s step, seen map[int64]string, versions *int) error {
	s.pr.APIURL = e.GitHubURL
	body, err := s.pr.Payload()
	if err != nil {
		return err
	}
	if s.prepare != nil {
		s.prepare(e.GitHub)
	}
	fmt.Fprintf(w, "\n==> pull_request.%s: %s (head %s)\n", s.pr.Action, s.say, short(s.pr.SHA))
	start := time.Now()
	status, answer, err := Post(ctx, replayClient, t.WebhookURL, t.Secret, Delivery{Event: "pull_request", Body: body, AppID: t.AppID})
	if err != nil {
		return fmt.Errorf("sandbox: delivering %s: %w", s.pr.Action, err)
	}
	fmt.Fprintf(w, "    POST /webhook → %d %s\n", status, answer)
	if status != http.StatusAccepted {
		return fmt.Errorf("sandbox: the service answered %d to the %s delivery: %s", status, s.pr.Action, answer)
	}

	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	tick := time.NewTicker(replayPoll)
	defer tick.Stop()
	for {
		e.printComments(w, seen, versions)
		idle, err := t.Idle(sctx)
		if err == nil && idle {
			e.printComments(w, seen, versions) // the last write may have landed since
			break
		}
		select {
		case <-sctx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("sandbox: the %s step did not settle within %s (last error: %v)", s.pr.Action, stepTimeout, err)
		case <-tick.C:
		}
	}
	e.printDeployments(w)
	fmt.Fprintf(w, "    settled in %s\n", time.Since(start).Round(100*time.Millisecond))
	if s.check != nil {
		return s.check(w)
	}
	return nil
}

// printComments writes every comment on the PR whose body changed since
// the last call.
func (e *Env) printComments(w io.Writer, seen map[int64]string, versions *int) {
	for _, c := range e.GitHub.Comments(Owner, Repo, PRNumber) {
		if seen[c.ID] == c.Body {
			continue
		}
		seen[c.ID] = c.Body
		*versions++
		fmt.Fprintf(w, "\n---------- PR comment %d by %s (version %d) ----------\n%s\n------------------------------------------------------------\n",
			c.ID, c.User, *versions, strings.TrimRight(c.Body, "\n"))
	}
}

func (e *Env) printDeployments(w io.Writer) {
	ds := e.GitHub.Deployments(Owner, Repo)
	if len(ds) == 0 {
		fmt.Fprintln(w, "    deployments: none")
		return
	}
	fmt.Fprintln(w, "    deployments:")
	for _, d := range ds {
		state, url := "no status", ""
		if n := len(d.Statuses); n > 0 {
			state, url = d.Statuses[n-1].State, d.Statuses[n-1].EnvironmentURL
		}
		line := fmt.Sprintf("      #%d %s @ %s: %s", d.ID, d.Environment, short(d.SHA), state)
		if url != "" {
			line += " → " + url
		}
		fmt.Fprintln(w, line)
	}
}

// expectProjects checks how many apps the Cloud holds after a step, and
// prints them.
func (e *Env) expectProjects(n int, problem string) func(io.Writer) error {
	return func(w io.Writer) error {
		ps := e.Cloud.Projects()
		if len(ps) == 0 {
			fmt.Fprintln(w, "    cloud: no preview apps")
		}
		for _, p := range ps {
			fmt.Fprintf(w, "    cloud: app %s (builds: %d, branch %s) endpoint %s\n", p.Name, p.Builds, p.Branch, p.Endpoint)
		}
		if len(ps) != n {
			return errors.New("sandbox: " + problem + fmt.Sprintf(" (the Cloud holds %d apps, want %d)", len(ps), n))
		}
		return nil
	}
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
