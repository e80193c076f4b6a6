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
	// InFlightJob, when set, is a creation job that may still bring the
	// app up; Destroy refuses (ErrBuildInFlight) until it is over, so that
	// closing a pull request during a build never leaves an orphan.
	InFlightJob string
	// Databases, when set, drops the app's ephemeral database too.
	Databases Databases
}

// DestroyResult says what Destroy found.
type DestroyResult struct {
	// Existed is false when the app was already gone (still a success).
	Existed   bool
	ProjectID string
	TenantID  string
	At        time.Time
}

// Destroy deletes the app and its database. It is idempotent: an app that is
// already gone is success, not an error.
func (e *Engine) Destroy(ctx context.Context, spec DestroySpec) (DestroyResult, error) {
	if spec.InFlightJob != "" {
		job, err := e.Cloud.Job(ctx, spec.InFlightJob)
		switch {
		case errors.Is(err, cloud.ErrNotFound):
			// Unknown to the Cloud: nothing will come of it.
		case err != nil:
			return DestroyResult{}, fmt.Errorf("checking the build of %q before deleting it: %w", spec.Name, err)
		case !job.Done():
			return DestroyResult{}, fmt.Errorf("deleting preview app %q: %w", spec.Name, ErrBuildInFlight)
		}
	}
	res := DestroyResult{At: e.now()}
	proj, err := e.Cloud.ProjectByName(ctx, spec.Name)
	switch {
	case errors.Is(err, cloud.ErrNotFound):
	case err != nil:
		return res, fmt.Errorf("looking up preview app %q: %w", spec.Name, err)
	default:
		res.Existed, res.ProjectID, res.TenantID = true, proj.ID, proj.TenantID
		if err := e.Cloud.DeleteTenant(ctx, proj.TenantID); err != nil && !errors.Is(err, cloud.ErrNotFound) {
			return res, fmt.Errorf("deleting preview app %q: %w", spec.Name, err)
		}
		e.log().Info("preview app deleted", "app", spec.Name, "project", proj.ID)
	}
	if spec.Databases != nil {
		if err := spec.Databases.Drop(ctx, spec.Name); err != nil {
			return res, fmt.Errorf("dropping the database of %q: %w", spec.Name, err)
		}
	}
	return res, nil
}
