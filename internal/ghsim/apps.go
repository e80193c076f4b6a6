package ghsim

import (
	"crypto/rand"
	"crypto/rsa"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// installationTokenTTL is how long GitHub's installation tokens live.
const installationTokenTTL = time.Hour

// DefaultInstallationPermissions returns what AddInstallation grants
// unless SetInstallationPermissions says otherwise: what hasura-preview's
// App asks for.
func DefaultInstallationPermissions() map[string]string {
	return map[string]string{
		"metadata": "read", "contents": "read", "issues": "write",
		"pull_requests": "write", "deployments": "write",
	}
}

type appState struct {
	id        int64
	key       *rsa.PublicKey
	slug      string
	createdAt time.Time
	manifest  *CreatedApp // set for Apps registered through the manifest flow
}

type installState struct {
	id        int64
	appID     int64
	account   string
	repos     []string // names under account; nil means all of them
	perms     map[string]string
	createdAt time.Time
}

// MintedToken records an installation token the simulator issued. The
// token value itself is deliberately absent; use TokenScope with the value
// the code under test handed on.
type MintedToken struct {
	Label          string // how the request log names it
	AppID          int64
	InstallationID int64
	Account        string
	AllRepos       bool     // every repository of Account
	Repos          []string // "owner/repo" when narrowed or selected
	Permissions    map[string]string
	ExpiresAt      time.Time
	// Revoked says DELETE /installation/token was called with it.
	Revoked bool
}

// AddApp registers a GitHub App whose JWTs are verified with publicKey.
// Its slug (and so its bot login, "<slug>[bot]") defaults to
// "hasura-preview"; see SetAppSlug.
func (s *Server) AddApp(appID int64, publicKey *rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.apps[appID] = &appState{id: appID, key: publicKey, slug: "hasura-preview", createdAt: s.now()}
}

// SetAppSlug renames a registered App; it reports whether the App exists.
func (s *Server) SetAppSlug(appID int64, slug string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.st.apps[appID]; a != nil {
		a.slug = slug
		return true
	}
	return false
}

// AddInstallation installs App appID on account, for the named
// repositories (plain names under account, created if missing) or, when
// repos is nil, for all of the account's repositories.
func (s *Server) AddInstallation(appID, installationID int64, account string, repos []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range repos {
		s.st.ensureRepo(account, r)
	}
	s.st.userID(account)
	s.st.inst[installationID] = &installState{
		id: installationID, appID: appID, account: account, repos: slices.Clone(repos),
		perms: DefaultInstallationPermissions(), createdAt: s.now(),
	}
}

// RemoveInstallation uninstalls the App from the installation's account, as
// the account's owner does in their settings: the installation answers 404
// from then on. It reports whether the installation existed.
func (s *Server) RemoveInstallation(installationID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.st.inst[installationID]
	delete(s.st.inst, installationID)
	return ok
}

// SetInstallationRepositories replaces the repositories an installation
// covers (names under its account; nil means all of them); it reports
// whether the installation exists.
func (s *Server) SetInstallationRepositories(installationID int64, repos []string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.st.inst[installationID]
	if in == nil {
		return false
	}
	for _, r := range repos {
		s.st.ensureRepo(in.account, r)
	}
	in.repos = slices.Clone(repos)
	return true
}

// SetInstallationPermissions replaces what an installation was granted;
// it reports whether the installation exists.
func (s *Server) SetInstallationPermissions(installationID int64, perms map[string]string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in := s.st.inst[installationID]; in != nil {
		in.perms = maps.Clone(perms)
		return true
	}
	return false
}

// MintedTokens lists the installation tokens issued so far, oldest first.
func (s *Server) MintedTokens() []MintedToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.st.minted)
	for i := range out {
		out[i].Repos = slices.Clone(out[i].Repos)
		out[i].Permissions = maps.Clone(out[i].Permissions)
	}
	return out
}

// covers reports whether the installation reaches repository r.
func (in *installState) covers(r *repoState) bool {
	if lower(r.owner) != lower(in.account) {
		return false
	}
	return in.repos == nil || slices.ContainsFunc(in.repos, func(n string) bool { return lower(n) == lower(r.name) })
}

type appJSON struct {
	ID          int64             `json:"id"`
	Slug        string            `json:"slug"`
	NodeID      string            `json:"node_id"`
	Owner       userJSON          `json:"owner"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	ExternalURL string            `json:"external_url"`
	HTMLURL     string            `json:"html_url"`
	CreatedAt   string            `json:"created_at"`
	UpdatedAt   string            `json:"updated_at"`
	Permissions map[string]string `json:"permissions"`
	Events      []string          `json:"events"`
}

func (c *call) getApp() {
	writeJSON(c.w, http.StatusOK, c.appJSON(c.who.app))
}

// appJSON is an App as GET /app shows it; an App made from a manifest
// shows the name, owner, permissions and events the manifest gave it.
func (c *call) appJSON(a *appState) appJSON {
	out := appJSON{
		ID: a.id, Slug: a.slug, NodeID: nodeID("Integration", a.id), Owner: c.user("hasura-preview", "Organization"),
		Name: a.slug, ExternalURL: webURL, HTMLURL: webURL + "/apps/" + a.slug,
		CreatedAt: ts(a.createdAt), UpdatedAt: ts(a.createdAt),
		Permissions: DefaultInstallationPermissions(), Events: []string{"pull_request"},
	}
	if m := a.manifest; m != nil {
		out.Name, out.Owner = m.Name, c.user(m.Owner, m.OwnerType)
		out.Permissions, out.Events = maps.Clone(m.Permissions), slices.Clone(m.Events)
		if out.Permissions == nil {
			out.Permissions = map[string]string{}
		}
		if out.Events == nil {
			out.Events = []string{}
		}
	}
	return out
}

type installationJSON struct {
	ID                  int64             `json:"id"`
	Account             userJSON          `json:"account"`
	RepositorySelection string            `json:"repository_selection"`
	AccessTokensURL     string            `json:"access_tokens_url"`
	RepositoriesURL     string            `json:"repositories_url"`
	HTMLURL             string            `json:"html_url"`
	AppID               int64             `json:"app_id"`
	AppSlug             string            `json:"app_slug"`
	TargetID            int64             `json:"target_id"`
	TargetType          string            `json:"target_type"`
	Permissions         map[string]string `json:"permissions"`
	Events              []string          `json:"events"`
	CreatedAt           string            `json:"created_at"`
	UpdatedAt           string            `json:"updated_at"`
}

func (c *call) installationJSON(in *installState) installationJSON {
	id := strconv.FormatInt(in.id, 10)
	sel := "all"
	if in.repos != nil {
		sel = "selected"
	}
	acct := c.user(in.account, "User")
	return installationJSON{
		ID: in.id, Account: acct, RepositorySelection: sel,
		AccessTokensURL: c.apiBase() + "app/installations/" + id + "/access_tokens",
		RepositoriesURL: c.apiBase() + "installation/repositories",
		HTMLURL:         webURL + "/settings/installations/" + id,
		AppID:           in.appID, AppSlug: c.s.st.apps[in.appID].slug, TargetID: acct.ID, TargetType: "User",
		Permissions: maps.Clone(in.perms), Events: []string{"pull_request"},
		CreatedAt: ts(in.createdAt), UpdatedAt: ts(in.createdAt),
	}
}

// installation looks up {id} among the authenticated App's installations.
func (c *call) installation() *installState {
	id, ok := c.intParam("id")
	if !ok {
		return nil
	}
	in := c.s.st.inst[id]
	if in == nil || in.appID != c.who.app.id {
		c.notFound()
		return nil
	}
	return in
}

// getRepoInstallation answers the authenticated App's installation that
// covers the repository, or 404.
func (c *call) getRepoInstallation() {
	ids := slices.Sorted(maps.Keys(c.s.st.inst))
	for _, id := range ids {
		if in := c.s.st.inst[id]; in.appID == c.who.app.id && in.covers(c.repo) {
			writeJSON(c.w, http.StatusOK, c.installationJSON(in))
			return
		}
	}
	c.notFound()
}

func (c *call) getInstallation() {
	if in := c.installation(); in != nil {
		writeJSON(c.w, http.StatusOK, c.installationJSON(in))
	}
}

// createAccessToken mints an installation token, narrowed to the
// repositories and permissions the body asks for, which must lie within
// what the installation was granted.
func (c *call) createAccessToken() {
	in := c.installation()
	if in == nil {
		return
	}
	var req struct {
		Repositories  []string          `json:"repositories"`
		RepositoryIDs []int64           `json:"repository_ids"`
		Permissions   map[string]string `json:"permissions"`
	}
	if len(c.body) > 0 && !c.decode(&req) {
		return
	}

	var repos []*repoState
	narrowed := req.Repositories != nil || req.RepositoryIDs != nil
	for _, name := range req.Repositories {
		repos = append(repos, c.s.st.repo(in.account, name))
	}
	for _, id := range req.RepositoryIDs {
		repos = append(repos, c.s.st.reposByID[id])
	}
	for _, r := range repos {
		if r == nil || !in.covers(r) {
			c.invalid("Repository", "repositories", "invalid",
				"There is at least one repository that does not exist or is not accessible to the parent installation.")
			return
		}
	}
	if !narrowed && in.repos != nil {
		for _, name := range in.repos {
			repos = append(repos, c.s.st.repo(in.account, name))
		}
	}

	perms := maps.Clone(in.perms)
	if req.Permissions != nil {
		perms = map[string]string{"metadata": "read"}
		for p, lvl := range req.Permissions {
			if levelOf(lvl) == levelNone || levelOf(lvl) > levelOf(in.perms[p]) {
				writeError(c.w, http.StatusUnprocessableEntity, "The permissions requested are not granted to this installation.")
				return
			}
			perms[p] = lvl
		}
	}

	now := c.s.now()
	spec := TokenSpec{
		Label: "installation-" + strconv.FormatInt(in.id, 10) + "#" + strconv.Itoa(len(c.s.st.minted)+1),
		Login: c.s.st.apps[in.appID].slug + "[bot]", Type: "Bot",
		Permissions: perms, ExpiresAt: now.Add(installationTokenTTL),
	}
	if len(repos) == 0 {
		spec.AllRepos, spec.Account = true, in.account
	}
	repoJSONs := []repoJSON{}
	for _, r := range repos {
		spec.Repos = append(spec.Repos, r.fullName())
		repoJSONs = append(repoJSONs, c.repoJSON(r))
	}
	token := "ghs_" + rand.Text()
	c.s.st.addToken(token, spec).minted = len(c.s.st.minted)
	c.s.st.minted = append(c.s.st.minted, MintedToken{
		Label: spec.Label, AppID: in.appID, InstallationID: in.id, Account: in.account,
		AllRepos: spec.AllRepos, Repos: slices.Clone(spec.Repos), Permissions: maps.Clone(perms),
		ExpiresAt: spec.ExpiresAt,
	})
	c.s.stats.TokensMinted++

	out := struct {
		Token               string            `json:"token"`
		ExpiresAt           string            `json:"expires_at"`
		Permissions         map[string]string `json:"permissions"`
		RepositorySelection string            `json:"repository_selection"`
		Repositories        []repoJSON        `json:"repositories,omitempty"`
	}{token, ts(spec.ExpiresAt), perms, "all", nil}
	if len(repos) > 0 {
		out.RepositorySelection, out.Repositories = "selected", repoJSONs
	}
	writeJSON(c.w, http.StatusCreated, out)
}
