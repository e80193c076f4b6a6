package cloudsim

import (
	"fmt"
	"maps"
	"regexp"
	"sort"
	"time"
)

func resolveJobByPk(x *exec, _ any, a *ordMap) (any, *gqlError) {
	j := x.s.jobs[a.str("id")]
	if j == nil || j.createdAt.After(x.now) {
		return nil, nil
	}
	if j.nullReads > 0 {
		j.nullReads--
		return nil, nil
	}
	return &jobView{j: j, now: x.now}, nil
}

func resolveTasks(_ *exec, parent any, a *ordMap) (any, *gqlError) {
	return applyListArgs(parent.(*jobView).tasks(), a)
}

func resolveTaskEvents(_ *exec, parent any, a *ordMap) (any, *gqlError) {
	return applyListArgs(parent.(*taskView).events, a)
}

func resolveProjects(x *exec, _ any, a *ordMap) (any, *gqlError) {
	return applyListArgs(x.s.projectsInOrder(), a)
}

func resolveProjectByPk(x *exec, _ any, a *ordMap) (any, *gqlError) {
	p := x.s.byID[a.str("id")]
	if p == nil || p.nullReads > 0 {
		if p != nil {
			p.nullReads--
		}
		return nil, nil
	}
	return p, nil
}

func resolveTenantByPk(x *exec, _ any, a *ordMap) (any, *gqlError) {
	if p := x.s.byTenant[a.str("id")]; p != nil {
		return (*tenantView)(p), nil
	}
	return nil, nil
}

func errTenantNotFound() *gqlError {
	return newErr(stageExecute, "not-found", "$", "tenant not found")
}

func resolveGetTenantEnv(x *exec, _ any, a *ordMap) (any, *gqlError) {
	p := x.s.byTenant[a.str("tenantId")]
	if p == nil {
		return nil, errTenantNotFound()
	}
	return p, nil
}

func badRequest(format string, args ...any) *gqlError {
	return newErr(stageExecute, "bad-request", "$", format, args...)
}

var nameRule = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func checkName(name string) *gqlError {
	if !nameRule.MatchString(name) {
		return badRequest("invalid project name %q: a name must be 1 to 63 lowercase letters, digits or hyphens, "+
			"and must not start or end with a hyphen", name)
	}
	return nil
}

func checkCloud(cloud string) *gqlError {
	if cloud != "aws" && cloud != "gcp" {
		return badRequest("invalid cloud %q: must be one of aws, gcp", cloud)
	}
	return nil
}

// envList reads [UpdateEnvsObject]; a later key overrides an earlier one.
func envList(list []any) map[string]string {
	env := map[string]string{}
	for _, e := range list {
		if m, ok := e.(*ordMap); ok {
			env[m.str("key")] = m.str("value")
		}
	}
	return env
}

func resolveCreatePreviewApp(x *exec, _ any, a *ordMap) (any, *gqlError) {
	s := x.s
	payload := a.obj("payload")
	if payload == nil {
		return nil, badRequest("payload must not be null")
	}
	repo, opts := payload.obj("githubRepoDetails"), payload.obj("projectOptions")
	for _, req := range []struct{ field, value string }{
		{"githubPersonalAccessToken", payload.str("githubPersonalAccessToken")},
		{"githubRepoDetails.owner", repo.str("owner")},
		{"githubRepoDetails.repo", repo.str("repo")},
		{"githubRepoDetails.branch", repo.str("branch")},
	} {
		if req.value == "" {
			return nil, badRequest("%s must not be empty", req.field)
		}
	}
	name := opts.str("name")
	if err := checkName(name); err != nil {
		return nil, err
	}
	if err := checkCloud(opts.str("cloud")); err != nil {
		return nil, err
	}
	if q := s.opts.MonthlyQuota; q > 0 {
		if used := s.quotaUsed(x.now); used >= q {
			return nil, newErr(stageExecute, "unexpected", "$",
				"monthly preview app quota exceeded: %d of %d preview app API calls used", used, q)
		}
	}
	spec := &creationSpec{
		name: name, deployJobID: s.newID(), env: envList(opts.list("envVars")),
		owner: repo.str("owner"), repo: repo.str("repo"), branch: repo.str("branch"), directory: repo.str("directory"),
		plan: opts.str("plan"), region: opts.str("region"), cloud: opts.str("cloud"),
	}
	if p := s.byName[name]; p != nil {
		spec.projectID, spec.tenantID = p.id, p.tenantID
	} else {
		spec.projectID, spec.tenantID = s.newID(), s.newID()
	}
	creation, taskDur := s.durations(name)
	spec.taskDuration = taskDur
	s.skipUnfinished(name, x.now)
	j := s.newCreationJob(spec, x.now, creation, s.takeCreationFailure(name))
	s.addJob(j)
	s.creates = append(s.creates, x.now)
	return &jobView{j: j, now: x.now}, nil
}

// quotaUsed counts accepted creations in now's calendar month (UTC).
func (s *Server) quotaUsed(now time.Time) int {
	y, m, _ := now.UTC().Date()
	n := 0
	for _, t := range s.creates {
		if ty, tm, _ := t.UTC().Date(); ty == y && tm == m {
			n++
		}
	}
	return n
}

func (s *Server) takeCreationFailure(app string) string {
	q := s.failCreation[app]
	if len(q) == 0 {
		return ""
	}
	s.failCreation[app] = q[1:]
	return q[0]
}

func (s *Server) durations(app string) (creation, task time.Duration) {
	creation, task = s.opts.CreationDuration, s.opts.TaskDuration
	if d, ok := s.appDurations[app]; ok {
		if d[0] > 0 {
			creation = d[0]
		}
		if d[1] > 0 {
			task = d[1]
		}
	}
	return creation, task
}

// creating reports whether a creation job for name is still running.
func (s *Server) creating(name string, now time.Time) bool {
	for _, j := range s.appJobs[name] {
		if j.kind == KindCreation && !j.terminal(now) {
			return true
		}
	}
	return false
}

func resolveCreateTenant(x *exec, _ any, a *ordMap) (any, *gqlError) {
	s := x.s
	cloud := a.str("cloud")
	if err := checkCloud(cloud); err != nil {
		return nil, err
	}
	if a.str("region") == "" {
		return nil, badRequest("region must not be empty")
	}
	name := a.str("name")
	if name == "" {
		name = s.generateName()
	} else if err := checkName(name); err != nil {
		return nil, err
	}
	if s.byName[name] != nil || s.creating(name, x.now) {
		return nil, badRequest("a project named %q already exists", name)
	}
	p := &project{
		id: s.newID(), tenantID: s.newID(), name: name, endpoint: s.endpointOf(name),
		env: envList(a.list("envs")), plan: a.str("plan"), region: a.str("region"), cloud: cloud,
		createdAt: x.now, updatedAt: x.now,
	}
	s.addProject(p)
	return p, nil
}

func resolveDeleteTenant(x *exec, _ any, a *ordMap) (any, *gqlError) {
	p := x.s.byTenant[a.str("tenantId")]
	if p == nil {
		return nil, errTenantNotFound()
	}
	x.s.removeProject(p, x.now)
	return "deleted", nil
}

func resolveUpdateTenantEnv(x *exec, _ any, a *ordMap) (any, *gqlError) {
	p := x.s.byTenant[a.str("tenantId")]
	if p == nil {
		return nil, errTenantNotFound()
	}
	merged := copyEnv(p.env)
	maps.Copy(merged, envList(a.list("envs")))
	return changeEnv(x, p, a.str("currentHash"), merged)
}

func resolveDeleteTenantEnv(x *exec, _ any, a *ordMap) (any, *gqlError) {
	p := x.s.byTenant[a.str("tenantId")]
	if p == nil {
		return nil, errTenantNotFound()
	}
	kept := copyEnv(p.env)
	for _, k := range a.list("deleteEnvs") {
		if key, ok := k.(string); ok {
			delete(kept, key)
		}
	}
	return changeEnv(x, p, a.str("currentHash"), kept)
}

// changeEnv applies an env change guarded by the hash. The real texts of
// the stale-hash and no-change refusals are not public; these are guesses
// that clients must classify broadly.
func changeEnv(x *exec, p *project, currentHash string, next map[string]string) (any, *gqlError) {
	if currentHash != envHash(p.env) {
		return nil, newErr(stageExecute, "conflict", "$",
			"hash mismatch: the config was changed since currentHash was read; read it again")
	}
	if maps.Equal(next, p.env) {
		return nil, badRequest("nothing changed in config")
	}
	p.env, p.updatedAt = next, x.now
	p.envUpdates++
	return p, nil
}

// projectsInOrder lists live projects, duplicates of a name included, in
// insertion order. Postgres promises no order without order_by; insertion
// order is what it usually gives.
func (s *Server) projectsInOrder() []*project {
	out := make([]*project, 0, len(s.byID))
	for _, p := range s.byID {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

var nameWords = [2][]string{
	{"amber", "brave", "calm", "daring", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucky", "mellow"},
	{"badger", "comet", "delta", "falcon", "harbor", "island", "jaguar", "lotus", "meadow", "otter", "pine", "river"},
}

// generateName makes a name like Hasura Cloud's "adjective-noun-1234".
func (s *Server) generateName() string {
	for {
		name := fmt.Sprintf("%s-%s-%04d", nameWords[0][s.rng.IntN(len(nameWords[0]))],
			nameWords[1][s.rng.IntN(len(nameWords[1]))], s.rng.IntN(10000))
		if s.byName[name] == nil {
			return name
		}
	}
}
