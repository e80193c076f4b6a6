package action

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// source names what a run builds from: the head repository and branch.
// Each deployment records it, so that a later run can tell whether the
// app of a name was built by this pull request's branch.
func (r *runner) source() string {
	return strings.ToLower(r.t.Owner+"/"+r.t.Name) + "@" + r.t.Branch
}

// lastBuild is what the newest GitHub deployment of the app's environment
// records; the zero value when there is none (or deployments are off).
type lastBuild struct {
	sha, state string
	payload    deployPayload
}

// readLastBuild reads the newest deployment of the app's environment once
// for the run: both the ownership check and the env-only update need it.
func (r *runner) readLastBuild(ctx context.Context) lastBuild {
	if !r.deploy {
		return lastBuild{}
	}
	last, ok, err := r.rep.LastDeployment(ctx, ghreport.EnvironmentName(r.name))
	if err != nil || !ok {
		return lastBuild{}
	}
	b := lastBuild{sha: last.SHA, state: last.State}
	if json.Unmarshal(last.Payload, &b.payload) != nil {
		b.payload = deployPayload{}
	}
	return b
}

// explicitName reports whether the workflow's author fixed the app name:
// a name input that the pull request's author cannot steer ({branch} is
// the head branch's name, which a fork picks).
func (r *runner) explicitName() bool {
	return !preview.IsUnsetName(r.in.NameTemplate) && !strings.Contains(r.in.NameTemplate, "{branch}")
}

// mayTouch reports whether this run may rebuild or delete the existing app
// of its name. Every create and delete in the Cloud is by name, and a
// name that expands from a template can name another branch's app (a fork
// on pull_request_target picks its branch's name; two repositories sharing
// a Cloud account can share a name). So unless the name was fixed by the
// workflow, the app must have been built by this repository and branch, as
// the newest GitHub deployment of its environment records. Without that
// record (deployments off, or an app this action never built) a fork's run
// may not, and a run from the repository itself may, as before.
func (r *runner) mayTouch(exists bool, last lastBuild) (bool, string) {
	if !exists || r.explicitName() {
		return true, ""
	}
	if src := last.payload.Source; src != "" {
		if src == r.source() {
			return true, ""
		}
		return false, fmt.Sprintf("the app %s was built from %s, not from this pull request's %s", r.name, src, r.source())
	}
	if r.isFork() {
		return false, fmt.Sprintf("nothing shows that this fork's branch built the app %s", r.name)
	}
	return true, ""
}
