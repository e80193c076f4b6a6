package action

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// source names what a run builds from, as each deployment records it: the
// head repository and branch.
func (r *runner) source() string {
	return strings.ToLower(r.t.Owner+"/"+r.t.Name) + "@" + r.t.Branch
}

// lastBuild is what the newest GitHub deployment of the app's environment
// records; the zero value when there is none (or deployments are off).
type lastBuild struct {
	sha, state string
	payload    deployPayload
}

// readLastBuild reads the newest deployment of the app's environment, for
// the ownership check and the env-only update.
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
// of its name. A templated name can name another branch's app (a fork
// picks its branch name; repositories can share a Cloud account), so the
// newest deployment of the app's environment must record this repository
// and branch as its source. Without that record only a fork is refused.
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
