package ghsim

import (
	"cmp"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Deployment is a deployment as the simulator received it. Optional
// request fields are pointers that stay nil when the client omitted them,
// because omission changes GitHub's behaviour: no auto_merge means "merge
// the default branch in first", no required_contexts means "wait for
// every status check".
type Deployment struct {
	ID          int64
	Owner, Repo string
	Ref         string // as sent
	SHA         string // what ref resolved to
	Task        string
	Environment string // current; a status may change it
	Description string

	AutoMerge             *bool
	RequiredContexts      *[]string
	TransientEnvironment  *bool
	ProductionEnvironment *bool
	Payload               json.RawMessage // nil when not sent

	Creator   string
	CreatedAt time.Time
	Raw       json.RawMessage // the request body, verbatim
	Deleted   bool
	Statuses  []DeploymentStatus // oldest first
}

// DeploymentStatus is one status of a Deployment as received.
type DeploymentStatus struct {
	ID             int64
	State          string
	Description    string
	Environment    string
	EnvironmentURL string
	LogURL         string
	TargetURL      string
	AutoInactive   *bool // as sent; nil when omitted (GitHub's default is true)
	Creator        string
	CreatedAt      time.Time
	// Auto marks an inactive status GitHub added on its own because a
	// later deployment to the same environment succeeded.
	Auto bool
	Raw  json.RawMessage // the request body, verbatim; nil when Auto
}

// Deployments returns the repository's deployments, oldest first, with
// their statuses, including deleted ones (Deleted set).
func (s *Server) Deployments(owner, repo string) []Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Deployment
	for _, d := range s.st.repoDeployments(owner, repo) {
		cp := *d
		cp.Statuses = slices.Clone(d.Statuses)
		out = append(out, cp)
	}
	return out
}

// repoDeployments lists a repository's deployments, oldest first.
func (st *state) repoDeployments(owner, repo string) []*Deployment {
	var out []*Deployment
	k := repoKey(owner, repo)
	for _, d := range st.deployments {
		if repoKey(d.Owner, d.Repo) == k {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b *Deployment) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

var fullSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

type deploymentJSON struct {
	URL                   string          `json:"url"`
	ID                    int64           `json:"id"`
	NodeID                string          `json:"node_id"`
	SHA                   string          `json:"sha"`
	Ref                   string          `json:"ref"`
	Task                  string          `json:"task"`
	Payload               json.RawMessage `json:"payload"`
	OriginalEnvironment   string          `json:"original_environment"`
	Environment           string          `json:"environment"`
	Description           *string         `json:"description"`
	Creator               userJSON        `json:"creator"`
	CreatedAt             string          `json:"created_at"`
	UpdatedAt             string          `json:"updated_at"`
	StatusesURL           string          `json:"statuses_url"`
	RepositoryURL         string          `json:"repository_url"`
	TransientEnvironment  bool            `json:"transient_environment"`
	ProductionEnvironment bool            `json:"production_environment"`
}

func (c *call) deploymentURL(d *Deployment) string {
	return c.repoURL(c.repo) + "/deployments/" + strconv.FormatInt(d.ID, 10)
}

func (c *call) deploymentJSON(d *Deployment) deploymentJSON {
	payload := d.Payload
	if payload == nil {
		payload = json.RawMessage(`{}`)
	}
	var desc *string
	if d.Description != "" {
		desc = &d.Description
	}
	updated := d.CreatedAt
	if n := len(d.Statuses); n > 0 {
		updated = d.Statuses[n-1].CreatedAt
	}
	original := d.Environment
	if len(d.Raw) > 0 {
		var in struct{ Environment *string }
		if json.Unmarshal(d.Raw, &in) == nil && in.Environment != nil {
			original = *in.Environment
		}
	}
	return deploymentJSON{
		URL: c.deploymentURL(d), ID: d.ID, NodeID: nodeID("Deployment", d.ID),
		SHA: d.SHA, Ref: d.Ref, Task: d.Task, Payload: payload,
		OriginalEnvironment: original, Environment: d.Environment, Description: desc,
		Creator: c.user(d.Creator, ""), CreatedAt: ts(d.CreatedAt), UpdatedAt: ts(updated),
		StatusesURL:           c.deploymentURL(d) + "/statuses",
		RepositoryURL:         c.repoURL(c.repo),
		TransientEnvironment:  boolOr(d.TransientEnvironment, false),
		ProductionEnvironment: boolOr(d.ProductionEnvironment, d.Environment == "production"),
	}
}

func (c *call) createDeployment() {
	var in struct {
		Ref                   *string         `json:"ref"`
		Task                  *string         `json:"task"`
		AutoMerge             *bool           `json:"auto_merge"`
		RequiredContexts      *[]string       `json:"required_contexts"`
		Payload               json.RawMessage `json:"payload"`
		Environment           *string         `json:"environment"`
		Description           *string         `json:"description"`
		TransientEnvironment  *bool           `json:"transient_environment"`
		ProductionEnvironment *bool           `json:"production_environment"`
	}
	if !c.decode(&in) {
		return
	}
	if in.Ref == nil || *in.Ref == "" {
		writeError(c.w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"ref\" wasn't supplied.")
		return
	}
	sha := *in.Ref
	if !fullSHA.MatchString(sha) {
		// A fork's branch is not a ref of the base repository: GitHub
		// refuses it by name, so callers must deploy the head sha.
		owner, branch, ok := c.s.st.resolveRef(c.repo, *in.Ref)
		if !ok || owner != c.repo {
			writeError(c.w, http.StatusUnprocessableEntity, "No ref found for: "+*in.Ref)
			return
		}
		sha = owner.refs[branch]
	}
	now := c.s.now()
	c.s.st.nextDeployID++
	d := &Deployment{
		ID: c.s.st.nextDeployID, Owner: c.repo.owner, Repo: c.repo.name,
		Ref: *in.Ref, SHA: sha, Task: deref(in.Task, "deploy"),
		Environment: deref(in.Environment, "production"), Description: deref(in.Description, ""),
		AutoMerge: in.AutoMerge, RequiredContexts: in.RequiredContexts,
		TransientEnvironment: in.TransientEnvironment, ProductionEnvironment: in.ProductionEnvironment,
		Payload: in.Payload, Creator: c.who.tok.spec.Login, CreatedAt: now,
		Raw: json.RawMessage(slices.Clone(c.body)),
	}
	if len(d.Payload) == 0 || string(d.Payload) == "null" {
		d.Payload = nil
	}
	c.s.st.deployments[d.ID] = d
	c.s.stats.DeploymentCreates++
	writeJSON(c.w, http.StatusCreated, c.deploymentJSON(d))
}

func deref(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

// deployment looks up the {id} parameter within the request's repository.
func (c *call) deployment() *Deployment {
	id, ok := c.intParam("id")
	if !ok {
		return nil
	}
	d := c.s.st.deployments[id]
	if d == nil || d.Deleted || repoKey(d.Owner, d.Repo) != repoKey(c.repo.owner, c.repo.name) {
		c.notFound()
		return nil
	}
	return d
}

func (c *call) listDeployments() {
	q := c.r.URL.Query()
	var match []*Deployment
	all := c.s.st.repoDeployments(c.repo.owner, c.repo.name)
	for i := len(all) - 1; i >= 0; i-- { // newest first, as GitHub lists them
		d := all[i]
		if d.Deleted ||
			(q.Get("sha") != "" && q.Get("sha") != d.SHA) ||
			(q.Get("ref") != "" && q.Get("ref") != d.Ref) ||
			(q.Get("task") != "" && q.Get("task") != d.Task) ||
			(q.Get("environment") != "" && q.Get("environment") != d.Environment) {
			continue
		}
		match = append(match, d)
	}
	lo, hi := c.page(len(match))
	out := make([]deploymentJSON, 0, hi-lo)
	for _, d := range match[lo:hi] {
		out = append(out, c.deploymentJSON(d))
	}
	writeJSON(c.w, http.StatusOK, out)
}

func (c *call) getDeployment() {
	if d := c.deployment(); d != nil {
		writeJSON(c.w, http.StatusOK, c.deploymentJSON(d))
	}
}

// deleteDeployment follows GitHub's rule: only an inactive deployment, or
// the only one in its environment, may be deleted.
func (c *call) deleteDeployment() {
	d := c.deployment()
	if d == nil {
		return
	}
	if !inactive(d) {
		for _, o := range c.s.st.repoDeployments(d.Owner, d.Repo) {
			if o != d && !o.Deleted && o.Environment == d.Environment {
				writeError(c.w, http.StatusUnprocessableEntity,
					"We cannot delete an active deployment unless it is the only deployment in a given environment.")
				return
			}
		}
	}
	d.Deleted = true
	c.s.stats.DeploymentDeletes++
	c.w.WriteHeader(http.StatusNoContent)
}

func latestState(d *Deployment) string {
	if n := len(d.Statuses); n > 0 {
		return d.Statuses[n-1].State
	}
	return ""
}

func inactive(d *Deployment) bool { return latestState(d) == "inactive" }

var statusStates = []string{"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}

type statusJSON struct {
	URL            string   `json:"url"`
	ID             int64    `json:"id"`
	NodeID         string   `json:"node_id"`
	State          string   `json:"state"`
	Creator        userJSON `json:"creator"`
	Description    string   `json:"description"`
	Environment    string   `json:"environment"`
	TargetURL      string   `json:"target_url"`
	CreatedAt      string   `json:"created_at"`
	UpdatedAt      string   `json:"updated_at"`
	DeploymentURL  string   `json:"deployment_url"`
	RepositoryURL  string   `json:"repository_url"`
	EnvironmentURL string   `json:"environment_url"`
	LogURL         string   `json:"log_url"`
}

func (c *call) statusJSON(d *Deployment, st *DeploymentStatus) statusJSON {
	return statusJSON{
		URL: c.deploymentURL(d) + "/statuses/" + strconv.FormatInt(st.ID, 10),
		ID:  st.ID, NodeID: nodeID("DeploymentStatus", st.ID), State: st.State,
		Creator: c.user(st.Creator, ""), Description: st.Description, Environment: st.Environment,
		TargetURL: st.TargetURL, CreatedAt: ts(st.CreatedAt), UpdatedAt: ts(st.CreatedAt),
		DeploymentURL: c.deploymentURL(d), RepositoryURL: c.repoURL(c.repo),
		EnvironmentURL: st.EnvironmentURL, LogURL: st.LogURL,
	}
}

func (c *call) createDeploymentStatus() {
	d := c.deployment()
	if d == nil {
		return
	}
	var in struct {
		State          *string `json:"state"`
		TargetURL      *string `json:"target_url"`
		LogURL         *string `json:"log_url"`
		Description    *string `json:"description"`
		Environment    *string `json:"environment"`
		EnvironmentURL *string `json:"environment_url"`
		AutoInactive   *bool   `json:"auto_inactive"`
	}
	if !c.decode(&in) {
		return
	}
	switch {
	case in.State == nil:
		writeError(c.w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"state\" wasn't supplied.")
		return
	case !slices.Contains(statusStates, *in.State):
		writeError(c.w, http.StatusUnprocessableEntity, "Invalid request.\n\n"+strconv.Quote(*in.State)+" is not a member of [\"error\", \"failure\", \"inactive\", \"in_progress\", \"queued\", \"pending\", \"success\"].")
		return
	case utf8.RuneCountInString(deref(in.Description, "")) > 140:
		c.invalid("DeploymentStatus", "description", "custom", "description is too long (maximum is 140 characters)")
		return
	}
	if in.Environment != nil && *in.Environment != "" {
		d.Environment = *in.Environment
	}
	// log_url superseded target_url; GitHub fills each from the other.
	logURL := deref(in.LogURL, deref(in.TargetURL, ""))
	now := c.s.now()
	st := DeploymentStatus{
		ID: c.s.st.newStatusID(), State: *in.State, Description: deref(in.Description, ""),
		Environment: d.Environment, EnvironmentURL: deref(in.EnvironmentURL, ""),
		LogURL: logURL, TargetURL: deref(in.TargetURL, logURL), AutoInactive: in.AutoInactive,
		Creator: c.who.tok.spec.Login, CreatedAt: now, Raw: json.RawMessage(slices.Clone(c.body)),
	}
	d.Statuses = append(d.Statuses, st)
	c.s.stats.DeploymentStatusCreates++
	if st.State == "success" && boolOr(in.AutoInactive, true) {
		c.s.st.deactivatePrior(d, st.Creator, now)
	}
	writeJSON(c.w, http.StatusCreated, c.statusJSON(d, &d.Statuses[len(d.Statuses)-1]))
}

func (st *state) newStatusID() int64 {
	st.nextStatusID++
	return st.nextStatusID
}

// deactivatePrior does what auto_inactive promises: earlier successful,
// non-transient, non-production deployments to the same environment get
// an inactive status.
func (st *state) deactivatePrior(d *Deployment, creator string, now time.Time) {
	for _, o := range st.repoDeployments(d.Owner, d.Repo) {
		if o.ID >= d.ID || o.Deleted || o.Environment != d.Environment ||
			boolOr(o.TransientEnvironment, false) ||
			boolOr(o.ProductionEnvironment, o.Environment == "production") ||
			latestState(o) != "success" {
			continue
		}
		o.Statuses = append(o.Statuses, DeploymentStatus{
			ID: st.newStatusID(), State: "inactive", Environment: o.Environment,
			Creator: creator, CreatedAt: now, Auto: true,
		})
	}
}

func (c *call) listDeploymentStatuses() {
	d := c.deployment()
	if d == nil {
		return
	}
	lo, hi := c.page(len(d.Statuses))
	out := make([]statusJSON, 0, hi-lo)
	for i := len(d.Statuses) - 1 - lo; i >= len(d.Statuses)-hi; i-- { // newest first
		out = append(out, c.statusJSON(d, &d.Statuses[i]))
	}
	writeJSON(c.w, http.StatusOK, out)
}
