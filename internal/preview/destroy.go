package preview

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
)

// ErrBuildInFlight means a creation job for the app has not finished: the
// app may appear after a delete, so the delete must wait for it.
var ErrBuildInFlight = errors.New("a build of this preview is still running")

// DestroySpec names what to delete.
type DestroySpec struct {
	Name string
	// InFlightJob, when set, is a creation job that may still bring the app
	// up: Destroy refuses (ErrBuildInFlight) until it is over (no orphan).
	InFlightJob string
	// InFlightSince is when that job started: past the engine's deadline
	// Destroy deletes anyway, so a stuck job cannot keep a preview alive.
	InFlightSince time.Time
	// Keep, when set, is the live project whose duplicates are removed: it
	// and the database stay.
	Keep string
	// Databases, when set, drops the app's ephemeral database too.
	Databases Databases
	// Projects are the app's projects when the caller has just listed
	// them (Listed); otherwise Destroy lists them.
	Projects []cloud.Project
	Listed   bool
}

// DestroyResult says what Destroy found.
type DestroyResult struct {
	Existed             bool   // false when the app was already gone (a success)
	ProjectID, TenantID string // of the first project deleted
	// Deleted counts the projects of that name deleted: the Cloud can hold
	// several (graphql-engine#10287).
	Deleted int
	At      time.Time
}

// Destroy deletes every project of the app's name and its database. It is
// idempotent: an app that is already gone is success, not an error.
func (e *Engine) Destroy(ctx context.Context, spec DestroySpec) (DestroyResult, error) {
	if spec.InFlightJob != "" {
		job, err := e.Cloud.Job(ctx, spec.InFlightJob)
		switch {
		case errors.Is(err, cloud.ErrNotFound):
			// Unknown to the Cloud: nothing will come of it.
		case err != nil:
			return DestroyResult{}, fmt.Errorf("checking the build of %q before deleting it: %w", spec.Name, err)
		case !job.Done() && !e.overdue(spec.InFlightSince):
			return DestroyResult{}, fmt.Errorf("deleting preview app %q: %w", spec.Name, ErrBuildInFlight)
		case !job.Done():
			e.log().Warn("the build never finished; deleting anyway", "app", spec.Name, "job", spec.InFlightJob)
		}
	}
	res := DestroyResult{At: e.now()}
	projects := spec.Projects
	if !spec.Listed {
		var err error
		if projects, err = e.Cloud.ProjectsByName(ctx, spec.Name); err != nil {
			return res, fmt.Errorf("looking up preview app %q: %w", spec.Name, err)
		}
	}
	for _, proj := range projects {
		if proj.ID == spec.Keep {
			continue
		}
		if !res.Existed {
			res.Existed, res.ProjectID, res.TenantID = true, proj.ID, proj.TenantID
		}
		if proj.TenantID == "" {
			return res, fmt.Errorf("deleting preview app %q: project %s has no tenant to delete", spec.Name, proj.ID)
		}
		if err := e.Cloud.DeleteTenant(ctx, proj.TenantID); err != nil && !errors.Is(err, cloud.ErrNotFound) {
			return res, fmt.Errorf("deleting preview app %q: %w", spec.Name, err)
		}
		res.Deleted++
		e.log().Info("preview app deleted", "app", spec.Name, "project", proj.ID)
	}
	if spec.Databases != nil && spec.Keep == "" {
		if err := spec.Databases.Drop(ctx, spec.Name); err != nil {
			return res, fmt.Errorf("dropping the database of %q: %w", spec.Name, err)
		}
	}
	return res, nil
}

// overdue reports whether a build started at since (if known) is past the deadline.
func (e *Engine) overdue(since time.Time) bool {
	return !since.IsZero() && e.now().Sub(since) > orDefault(e.Deadline, DefaultDeadline)
}
