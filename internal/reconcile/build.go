package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/ghapp"
	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/jobs"
	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/repoconfig"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

// Messages for the Cloud failures that retrying cannot fix.
const (
	quotaMessage = "The Hasura Cloud account's preview quota is used up, so no preview was built. " +
		"It renews at the start of the month; push a commit or comment /preview rebuild then."
	unauthorizedMessage = "Hasura Cloud refused the service's access token, so no preview was built. " +
		"The service's operator needs to check HASURA_CLOUD_ACCESS_TOKEN."
)

// queue puts the PR in line for a slot of the installation's cap, and the
// comment says where; the lease ends once that is saved.
func (r *Reconciler) queue(ctx context.Context, ps *pass, st step, release func()) (time.Duration, error) {
	p, s := ps.p, ps.s
	if s.QueuedAt.IsZero() || p.Status != store.StatusQueued || p.AppName != ps.name {
		s.QueuedAt, p.Status, p.AppName = st.queuedAt, store.StatusQueued, ps.name
		if err := r.save(ctx, ps); err != nil {
			return 0, err
		}
	}
	release()
	ps.notices = append(ps.notices, ghreport.Notice{Kind: ghreport.NoticeNote, Text: queueText(st.running, st.limit, st.position)})
	r.progress(ctx, ps)
	return queuePoll, nil
}

func queueText(running, limit, position int) string {
	previews, are := "previews", "are"
	if running == 1 {
		previews, are = "preview", "is"
	}
	return fmt.Sprintf("Waiting: %d %s of this installation %s running (at most %d at a time); this PR is %s in line.",
		running, previews, are, limit, ordinal(position))
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// start asks the Cloud for a new build of the head commit. What is being
// built is saved first, so a restart neither forgets nor loops.
func (r *Reconciler) start(ctx context.Context, ps *pass, release func()) (time.Duration, error) {
	p, s, pr := ps.p, ps.s, ps.pr
	// Creates and deletes are by name: another PR's name is not ours.
	holder, err := r.Store.ClaimAppName(ctx, ps.name, ps.key)
	if err != nil {
		release()
		return 0, err
	}
	if holder != "" {
		release()
		// No app name is recorded, so a close does not delete the holder's.
		s.BuildGen, s.BuildSHA = pr.Generation, pr.HeadSHA
		p.AppName = ""
		return r.failStart(ctx, ps, fmt.Sprintf("The app name %s is already used by the preview of %s, so no preview was built: "+
			"give this repository another `name` template in %s.", ps.name, holder, repoconfig.Path), nil)
	}
	// GitHub does not retire transient environments' deployments itself.
	replaced := p.DeploymentID
	s.BuildGen, s.BuildSHA = pr.Generation, pr.HeadSHA
	s.Builds++
	s.Redo, s.Hold, s.Run, s.DeployOwed = "", nil, nil, false
	s.QueuedAt, s.Reason = time.Time{}, ""
	p.Status, p.AppName, p.DeploymentID, p.LastError = store.StatusBuilding, ps.name, 0, ""
	p.Endpoint, p.ConsoleURL, p.TTLWarnedAt = "", "", time.Time{}
	err = r.save(ctx, ps)
	release()
	if err != nil {
		return 0, err
	}
	r.deploymentInactive(ctx, ps, replaced, "Replaced by a newer build")
	// The previous build's token is done: the Cloud skips that build.
	r.revokeCloneToken(ctx, ps)
	token, _, err := r.GitHub.RepoReadToken(ctx, pr.InstallationID, pr.HeadOwner, pr.HeadRepo)
	if errors.Is(err, ghapp.ErrRepoNotInstalled) || errors.Is(err, ghapp.ErrPermissionNotGranted) {
		return r.failStart(ctx, ps, fmt.Sprintf("The App cannot read %s/%s, where the branch lives, so the Cloud could not clone it.",
			pr.HeadOwner, pr.HeadRepo), nil)
	}
	if err != nil {
		return 0, err
	}
	dbs, err := r.databases(ps)
	if err != nil {
		return r.failStart(ctx, ps, "The postgres settings cannot be used: "+err.Error(), nil)
	}
	run, err := r.Engine.Start(ctx, preview.Spec{
		Name: ps.name, Owner: pr.HeadOwner, Repo: pr.HeadRepo, Branch: pr.Branch,
		Directory: ps.res.Directory, Cloud: ps.res.Cloud, Region: ps.res.Region, Plan: ps.res.Plan,
		Env: ps.res.Env, GitHubToken: token, Databases: dbs,
	})
	if err == nil {
		run.Result.AutoRebuilt = s.AutoRebuildSHA == pr.HeadSHA
		s.recordEnv(&ps.res, r.fingerprints())
		s.EnvUpdates = 0
		// Kept in memory only, to revoke when the build is over: one lost
		// to a restart expires within the hour.
		r.mu.Lock()
		r.clones[ps.key] = token
		r.mu.Unlock()
	} else {
		r.revokeToken(ctx, ps, token)
	}
	code, said := cloudSaid(err)
	switch {
	case errors.Is(err, cloud.ErrQuotaExceeded):
		// Quota texts are not documented: the Cloud's words go with ours.
		return r.failStart(ctx, ps, quotaMessage+said, jobs.Permanent(err))
	case errors.Is(err, cloud.ErrUnauthorized):
		return r.failStart(ctx, ps, unauthorizedMessage, jobs.Permanent(err))
	case errors.Is(err, cloud.ErrInvalidInput):
		// Not quoted: a validation message may repeat an env value.
		return r.failStart(ctx, ps, "Hasura Cloud refused the preview's settings as invalid"+code+
			". Check the name, region, plan and env of "+repoconfig.Path+".", nil)
	case errors.Is(err, cloud.ErrNotFound), errors.Is(err, cloud.ErrAPI):
		// A retry would create again, for an answer that will not change.
		return r.failStart(ctx, ps, "Hasura Cloud refused to build the preview"+code+"."+said+
			" Push a commit or comment /preview rebuild to try again.", jobs.Permanent(err))
	case err != nil:
		return 0, err
	}
	s.Run = run
	if err := r.save(ctx, ps); err != nil {
		return 0, err
	}
	ps.log.InfoContext(ctx, "preview build started", "app", ps.name, "sha", pr.HeadSHA, "job", run.Result.CreationJobID)
	// The build is under way in the Cloud: the review does not hold it up.
	// It is saved with the deployment (a restart reviews again: step).
	changed := r.reviewAPI(ctx, ps)

	id, err := ps.rep.StartDeployment(ctx, ghreport.DeploymentSpec{
		Environment: ghreport.EnvironmentName(ps.name), Ref: pr.HeadSHA, Description: "Building preview " + ps.name,
		SkipInProgress: r.Budgets.low(pr.InstallationID),
	})
	r.warnGitHub(ctx, ps, "deployments", err)
	if id != 0 || (err != nil && !errors.Is(err, ghreport.ErrNoPermission)) {
		p.DeploymentID, s.DeployOwed, changed = id, id == 0, true
	}
	if changed {
		if err := r.save(ctx, ps); err != nil {
			return 0, err
		}
	}
	r.progress(ctx, ps)
	return cmp.Or(r.Engine.Poll.Initial, preview.DefaultPollPolicy().Initial), nil
}

// failStart records a build that never got going and says why.
func (r *Reconciler) failStart(ctx context.Context, ps *pass, msg string, ret error) (time.Duration, error) {
	now := r.Now()
	ps.s.Run = &preview.Run{Result: preview.Result{Name: ps.name, Status: preview.StatusFailed, Message: msg, Started: now, Finished: now}}
	ps.p.Status, ps.p.LastError = store.StatusFailed, msg
	ps.p.BuiltGeneration, ps.p.BuiltSHA = ps.s.BuildGen, ps.s.BuildSHA
	if err := r.save(ctx, ps); err != nil {
		return 0, err
	}
	ps.log.WarnContext(ctx, "preview build could not start", "app", ps.name, "reason", ps.red.Mask(msg))
	if _, err := r.settle(ctx, ps); err != nil && ret == nil {
		return 0, err
	}
	return 0, ret
}

// step reads the build's current job once. While GitHub is paused (until
// is set), a build that ends is recorded, and shown after the reset.
func (r *Reconciler) step(ctx context.Context, ps *pass, until time.Time) (time.Duration, error) {
	p, s := ps.p, ps.s
	// Catches a restart between the build's start and its review.
	r.reviewAPI(ctx, ps)
	wait, err := r.Engine.Step(ctx, s.Run, nil)
	if !s.Run.Result.Status.Done() {
		if err != nil {
			return 0, err
		}
		p.Status = store.StatusBuilding
		if err := r.save(ctx, ps); err != nil {
			return 0, err
		}
		r.progress(ctx, ps)
		return max(wait, minAgain), nil
	}
	paused := !until.IsZero()
	switch afterRun(s, paused) {
	case runSuperseded:
		// Another create replaced ours: build again (start retires our
		// deployment).
		ps.log.InfoContext(ctx, "preview build was superseded by another create; building again", "app", p.AppName)
		s.Redo = redoDrifted
		if err := r.save(ctx, ps); err != nil {
			return 0, err
		}
		if paused {
			return r.resumeWait(until), nil
		}
		return minAgain, nil
	case runAutoRebuild:
		ps.log.WarnContext(ctx, "the first deployment met the Cloud's first-run error; rebuilding once", "app", p.AppName)
		s.AutoRebuildSHA, s.Redo = s.BuildSHA, redoDrifted
		if err := r.save(ctx, ps); err != nil {
			return 0, err
		}
		r.progress(ctx, ps)
		return minAgain, nil
	}
	if err := r.conclude(ctx, ps); err != nil {
		return 0, err
	}
	if paused {
		return r.resumeWait(until), nil
	}
	_, serr := r.settle(ctx, ps)
	if errors.Is(err, cloud.ErrUnauthorized) {
		return 0, jobs.Permanent(err)
	}
	return 0, serr
}

// conclude records the outcome of a build that is over; settle shows it.
func (r *Reconciler) conclude(ctx context.Context, ps *pass) error {
	p, s := ps.p, ps.s
	r.revokeCloneToken(ctx, ps)
	res := &s.Run.Result
	if res.Status == preview.StatusSuccess {
		p.Status, p.LastError = store.StatusReady, ""
		p.Endpoint, p.ConsoleURL, p.ProjectID, p.TenantID = res.Endpoint, res.ConsoleURL, res.ProjectID, res.TenantID
		s.BuiltAt = cmp.Or(res.Finished, r.Now())
		s.setTTL(ttlIn(&ps.res, r.Settings.PreviewTTL), r.Settings.TTLWarning, s.KeepLabel)
		p.TTLWarnedAt = time.Time{}
	} else {
		p.Status, p.LastError = store.StatusFailed, res.Message
	}
	p.BuiltGeneration, p.BuiltSHA = s.BuildGen, s.BuildSHA
	if err := r.save(ctx, ps); err != nil {
		return err
	}
	ps.log.InfoContext(ctx, "preview build over", "app", p.AppName, "status", res.Status, "message", ps.red.Mask(res.Message))
	return nil
}

// updateEnv applies a changed env (edited, or a rotated secret) to a ready
// preview in place; should the Cloud refuse, the preview is rebuilt.
func (r *Reconciler) updateEnv(ctx context.Context, ps *pass) (time.Duration, error) {
	p, s := ps.p, ps.s
	dbs, err := r.databases(ps)
	if err != nil {
		dbs = nil // the database's variables are then simply not special
	}
	up, err := r.Engine.UpdateEnv(ctx, preview.EnvSpec{
		Name: p.AppName, TenantID: p.TenantID, Env: ps.res.Env, Managed: s.EnvKeys, Databases: dbs,
	})
	switch {
	case errors.Is(err, cloud.ErrTransient):
		return 0, err
	case errors.Is(err, cloud.ErrUnauthorized):
		p.LastError = unauthorizedMessage
		if serr := r.save(ctx, ps); serr != nil {
			return 0, serr
		}
		return 0, jobs.Permanent(err)
	case err != nil:
		ps.log.WarnContext(ctx, "updating the env in place failed; rebuilding instead", "app", p.AppName, "error", ps.red.Mask(err.Error()))
		s.Redo = redoAsked
		if err := r.save(ctx, ps); err != nil {
			return 0, err
		}
		return minAgain, nil
	}
	s.recordEnv(&ps.res, r.fingerprints())
	if len(up.Set)+len(up.Deleted) > 0 {
		s.EnvUpdates++
		if s.Run != nil {
			s.Run.Result.EnvUpdate = &up
		}
		ps.log.InfoContext(ctx, "preview env updated in place", "app", p.AppName, "set", up.Set, "deleted", up.Deleted)
	}
	if err := r.save(ctx, ps); err != nil {
		return 0, err
	}
	return r.steady(ctx, ps, step{warnTTL: ttlWarnDue(p, s, ps.pr, r.Now())})
}

// cloudSaid quotes the Cloud's error code and message, if it gave them.
func cloudSaid(err error) (code, said string) {
	var ce *cloud.Error
	if errors.As(err, &ce) && ce.Code != "" {
		code = " (" + ce.Code + ")"
	}
	if errors.As(err, &ce) && ce.Message != "" {
		said = " Hasura Cloud said: \"" + ce.Message + "\""
	}
	return code, said
}

// ttlIn is the TTL in force: the repository's, else the service's def.
func ttlIn(res *repoconfig.Resolved, def time.Duration) time.Duration {
	if res.TTL != nil {
		return *res.TTL
	}
	return def
}

// steady ends a pass on a preview that is what it should be, noting its
// env or warning of its TTL as st says.
func (r *Reconciler) steady(ctx context.Context, ps *pass, st step) (time.Duration, error) {
	if st.recordEnv {
		ps.s.recordEnv(&ps.res, r.fingerprints())
		ps.dirty = true
	}
	if st.warnTTL {
		ps.p.TTLWarnedAt = r.Now()
		if err := r.save(ctx, ps); err != nil {
			return 0, err
		}
	}
	return r.settle(ctx, ps)
}

// badConfig shows the configuration's problems and builds nothing; an
// existing preview stays.
func (r *Reconciler) badConfig(ctx context.Context, ps *pass, ce *repoconfig.Error) (time.Duration, error) {
	text := fmt.Sprintf("The preview was not built: `%s` on the default branch has problems.", repoconfig.Path)
	if ps.p.Active() {
		text = fmt.Sprintf("The preview was not updated: `%s` on the default branch has problems.", repoconfig.Path)
	}
	for _, pr := range ce.Problems {
		text += "\n- " + pr.String()
	}
	ps.notices = append(ps.notices, ghreport.Notice{Kind: ghreport.NoticeError, Text: text})
	ps.cfgErr = ce
	ps.log.InfoContext(ctx, "repository configuration has problems", "problems", len(ce.Problems))
	return r.settle(ctx, ps)
}

// tokenRevoker ends a read token early; *ghapp.App has it.
type tokenRevoker interface {
	RevokeToken(ctx context.Context, token string) error
}

// revokeCloneToken revokes the PR's held read token once the build is over:
// the deployment job's tasks (gh-validation, parse-metadata) read the branch too.
func (r *Reconciler) revokeCloneToken(ctx context.Context, ps *pass) {
	r.mu.Lock()
	token := r.clones[ps.key]
	delete(r.clones, ps.key)
	r.mu.Unlock()
	r.revokeToken(ctx, ps, token)
}

// revokeToken revokes one read token, best effort.
func (r *Reconciler) revokeToken(ctx context.Context, ps *pass, token string) {
	rv, ok := r.GitHub.(tokenRevoker)
	if token == "" || !ok {
		return
	}
	if err := rv.RevokeToken(ctx, token); err != nil {
		ps.log.WarnContext(ctx, "could not revoke the build's read token; it expires within the hour", "error", err)
	}
}
