package ghreport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/google/go-github/v60/github"
)

// Deployment states FinishDeployment accepts.
const (
	DeploySuccess = "success"
	DeployFailure = "failure"
	DeployError   = "error"
	// DeployInactive retires a deployment that a newer one replaced
	// before it finished (auto_inactive reaches only successful ones).
	DeployInactive = "inactive"
)

// maxDescription is GitHub's limit on a deployment (status) description.
const maxDescription = 140

// EnvironmentName is the GitHub environment of a preview app.
func EnvironmentName(app string) string { return "preview/" + app }

// DeploymentSpec describes a deployment to start.
type DeploymentSpec struct {
	Environment string // "preview/<name>" (see EnvironmentName)
	Ref         string // the head commit SHA
	Description string
	Payload     any    // extra JSON-encodable data kept with the deployment
	LogURL      string // linked from the in_progress status, when set
	// SkipInProgress leaves the deployment pending rather than in_progress:
	// one content write fewer, for a caller short of GitHub budget.
	SkipInProgress bool
}

// StartDeployment creates a deployment of spec.Ref and marks it
// in_progress (unless spec.SkipInProgress). It returns the deployment id for
// FinishDeployment.
//
// auto_merge is off and required_contexts is an explicit empty list: with
// GitHub's defaults, creating a deployment merges the base branch into the
// ref and waits for every commit status, neither of which a preview wants.
func (r *Reporter) StartDeployment(ctx context.Context, spec DeploymentSpec) (int64, error) {
	if spec.Environment == "" || spec.Ref == "" {
		return 0, errors.New("starting a deployment: environment and ref are required")
	}
	req := &github.DeploymentRequest{
		Ref:                   github.String(spec.Ref),
		Task:                  github.String("deploy"),
		AutoMerge:             github.Bool(false),
		RequiredContexts:      &[]string{},
		Payload:               spec.Payload,
		Environment:           github.String(spec.Environment),
		TransientEnvironment:  github.Bool(true),
		ProductionEnvironment: github.Bool(false),
		Description:           optional(truncateRunes(r.redact(spec.Description), maxDescription)),
	}
	st := &github.DeploymentStatusRequest{State: github.String("in_progress"), LogURL: optional(spec.LogURL)}
	r.mu.Lock()
	defer r.mu.Unlock()
	var id int64
	err := r.gate.Do(ctx, func() error {
		err := r.call(ctx, "creating a deployment", func(ctx context.Context, gh *github.Client) (*github.Response, error) {
			d, resp, err := gh.Repositories.CreateDeployment(ctx, r.owner, r.repo, req)
			id = d.GetID()
			return resp, err
		})
		if err != nil || spec.SkipInProgress {
			return err
		}
		return r.status(ctx, id, st)
	})
	return id, err
}

// FinishDeployment gives deployment id its final state (a Deploy…
// constant). environmentURL (the GraphQL endpoint) is what "View
// deployment" on the PR opens. On success, GitHub marks the environment's
// older deployments inactive (auto_inactive).
func (r *Reporter) FinishDeployment(ctx context.Context, id int64, state, environmentURL, logURL, description string) error {
	if !slices.Contains([]string{DeploySuccess, DeployFailure, DeployError, DeployInactive}, state) {
		return fmt.Errorf("finishing deployment %d: state %q is not success, failure, error or inactive", id, state)
	}
	st := &github.DeploymentStatusRequest{
		State:          github.String(state),
		EnvironmentURL: optional(environmentURL),
		LogURL:         optional(logURL),
		Description:    optional(truncateRunes(r.redact(description), maxDescription)),
	}
	if state == DeploySuccess {
		st.AutoInactive = github.Bool(true)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gate.Do(ctx, func() error { return r.status(ctx, id, st) })
}

// DeactivateEnvironment marks every deployment of environment inactive
// (those not already so: each status is a content write), so the PR stops
// offering a preview that no longer exists.
func (r *Reporter) DeactivateEnvironment(ctx context.Context, environment string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gate.Do(ctx, func() error {
		var ids []int64
		opts := &github.DeploymentsListOptions{Environment: environment, ListOptions: github.ListOptions{PerPage: 100}}
		err := r.eachPage(ctx, "listing deployments", &opts.ListOptions, func(ctx context.Context, gh *github.Client) (*github.Response, error) {
			ds, resp, err := gh.Repositories.ListDeployments(ctx, r.owner, r.repo, opts)
			for _, d := range ds {
				if d.GetEnvironment() == environment {
					ids = append(ids, d.GetID())
				}
			}
			return resp, err
		})
		if err != nil {
			return err
		}
		for _, id := range ids {
			latest, err := r.latestState(ctx, id)
			if err == nil && latest != "inactive" {
				err = r.status(ctx, id, &github.DeploymentStatusRequest{State: github.String("inactive")})
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// LastDeployment is the newest deployment of an environment: what it was
// for, what it carried and how it ended.
type LastDeployment struct {
	ID      int64
	SHA     string
	Payload json.RawMessage
	// State is its latest status ("success", "inactive", …), or "".
	State string
}

// LastDeployment reads the newest deployment of environment (GitHub lists
// them newest first); ok is false when there is none.
func (r *Reporter) LastDeployment(ctx context.Context, environment string) (last LastDeployment, ok bool, err error) {
	opts := &github.DeploymentsListOptions{Environment: environment, ListOptions: github.ListOptions{PerPage: 1}}
	err = r.call(ctx, "listing deployments", func(ctx context.Context, gh *github.Client) (*github.Response, error) {
		ds, resp, err := gh.Repositories.ListDeployments(ctx, r.owner, r.repo, opts)
		if len(ds) > 0 && ds[0].GetEnvironment() == environment {
			ok = true
			last = LastDeployment{ID: ds[0].GetID(), SHA: ds[0].GetSHA(), Payload: ds[0].Payload}
		}
		return resp, err
	})
	if err != nil || !ok {
		return LastDeployment{}, false, err
	}
	last.State, err = r.latestState(ctx, last.ID)
	return last, err == nil, err
}

// latestState reads the state of deployment id's latest status, or "".
func (r *Reporter) latestState(ctx context.Context, id int64) (state string, err error) {
	err = r.call(ctx, "reading deployment statuses", func(ctx context.Context, gh *github.Client) (*github.Response, error) {
		ss, resp, err := gh.Repositories.ListDeploymentStatuses(ctx, r.owner, r.repo, id, &github.ListOptions{PerPage: 1})
		if len(ss) > 0 {
			state = ss[0].GetState()
		}
		return resp, err
	})
	return state, err
}

func (r *Reporter) status(ctx context.Context, id int64, st *github.DeploymentStatusRequest) error {
	return r.call(ctx, fmt.Sprintf("setting deployment %d to %s", id, st.GetState()), func(ctx context.Context, gh *github.Client) (*github.Response, error) {
		_, resp, err := gh.Repositories.CreateDeploymentStatus(ctx, r.owner, r.repo, id, st)
		return resp, err
	})
}

// optional is s for an optional field of a GitHub request: nil when empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
