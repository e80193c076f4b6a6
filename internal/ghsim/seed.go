package ghsim

import (
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AddRepo registers an empty repository with default branch "main".
// Seeding methods that name a repository create it too, so calling
// AddRepo is only needed for a repository with nothing in it.
func (s *Server) AddRepo(owner, repo string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ensureRepo(owner, repo)
}

// RepoID returns the numeric id GitHub would report for the repository
// (used by repository_ids in token requests and by Link headers).
func (s *Server) RepoID(owner, repo string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.st.repo(owner, repo); r != nil {
		return r.id, true
	}
	return 0, false
}

// SetRef points branch ref of the repository at sha, creating the branch.
func (s *Server) SetRef(owner, repo, ref, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ensureRepo(owner, repo).refs[ref] = sha
}

// SetFile stores content at path on branch ref, creating the branch (with
// a made-up head sha unless SetRef or a pull request named one).
func (s *Server) SetFile(owner, repo, ref, path, content string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.ensureRepo(owner, repo)
	if _, ok := r.refs[ref]; !ok {
		r.refs[ref] = fakeSHA(r.fullName(), ref)
	}
	if r.files[ref] == nil {
		r.files[ref] = map[string]string{}
	}
	r.files[ref][strings.Trim(path, "/")] = content
}

// SetDir stores every file of fsys under dir on branch ref, as SetFile does.
func (s *Server) SetDir(owner, repo, ref, dir string, fsys fs.FS) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err == nil {
			s.SetFile(owner, repo, ref, dir+"/"+p, string(b))
		}
		return err
	})
}

// PullSpec describes a pull request to seed. Zero fields get defaults.
type PullSpec struct {
	Number int    // default: the next free issue number
	Title  string // default "Pull request #N"
	Body   string
	User   string // author login; default "octocat"

	HeadRef string // default "pr-N"
	HeadSHA string // default: a made-up sha
	// HeadOwner/HeadRepo name the fork the head branch lives in; default
	// the base repository. The fork is created and marked fork: true.
	HeadOwner, HeadRepo string

	BaseRef string // default the base repository's default branch

	State  string // "open" (default) or "closed"
	Merged bool   // implies State "closed"
	Draft  bool
	Labels []string
	Files  []string // changed paths, reported with status "modified"
}

// AddPull seeds a pull request, or replaces one keeping its comments,
// and returns its number.
func (s *Server) AddPull(owner, repo string, spec PullSpec) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.ensureRepo(owner, repo)
	if spec.Number == 0 {
		spec.Number = nextNumber(r)
	}
	now := s.now()
	is := &issueState{spec: spec, isPull: true, createdAt: now, updatedAt: now}
	if old := r.issues[spec.Number]; old != nil {
		is.id, is.createdAt, is.comments = old.id, old.createdAt, old.comments
	} else {
		s.st.nextIssueID++
		is.id = s.st.nextIssueID
	}
	r.issues[spec.Number] = is
	s.st.normalizePull(r, is, now)
	return spec.Number
}

func (st *state) addIssue(r *repoState, number int, title string, now time.Time) *issueState {
	st.nextIssueID++
	is := &issueState{
		id: st.nextIssueID, createdAt: now, updatedAt: now,
		spec: PullSpec{Number: number, Title: title, User: "octocat", State: "open"},
	}
	r.issues[number] = is
	st.userID("octocat")
	return is
}

// UpdatePull edits a seeded pull request in place (a push: new HeadSHA;
// a label; a title) and reports whether it exists.
func (s *Server) UpdatePull(owner, repo string, number int, edit func(*PullSpec)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.repo(owner, repo)
	if r == nil || r.issues[number] == nil || !r.issues[number].isPull {
		return false
	}
	is := r.issues[number]
	edit(&is.spec)
	is.spec.Number = number
	s.st.normalizePull(r, is, s.now())
	return true
}

// SetPullState sets a pull request "open", "closed" or "merged" and
// reports whether it exists.
func (s *Server) SetPullState(owner, repo string, number int, st string) bool {
	switch st {
	case "open", "closed", "merged":
	default:
		panic(fmt.Sprintf("ghsim: SetPullState: unknown state %q", st))
	}
	return s.UpdatePull(owner, repo, number, func(p *PullSpec) {
		p.Merged = st == "merged"
		p.State = st
		if st == "merged" {
			p.State = "closed"
		}
	})
}

func nextNumber(r *repoState) int {
	n := 0
	for k := range r.issues {
		n = max(n, k)
	}
	return n + 1
}

// normalizePull fills defaults and registers the head branch where it
// lives, so contents and deployments can resolve it.
func (st *state) normalizePull(r *repoState, is *issueState, now time.Time) {
	p := &is.spec
	n := strconv.Itoa(p.Number)
	if p.Title == "" {
		p.Title = "Pull request #" + n
	}
	if p.User == "" {
		p.User = "octocat"
	}
	if p.HeadOwner == "" {
		p.HeadOwner = r.owner
	}
	if p.HeadRepo == "" {
		p.HeadRepo = r.name
	}
	if p.HeadRef == "" {
		p.HeadRef = "pr-" + n
	}
	if p.HeadSHA == "" {
		p.HeadSHA = fakeSHA(p.HeadOwner+"/"+p.HeadRepo, p.HeadRef, n)
	}
	if p.BaseRef == "" {
		p.BaseRef = r.defaultBranch
	}
	if p.Merged {
		p.State = "closed"
	}
	if p.State == "" {
		p.State = "open"
	}
	p.Labels = slices.Clone(p.Labels)
	p.Files = slices.Clone(p.Files)
	if p.State == "closed" && is.closedAt.IsZero() {
		is.closedAt = now
	} else if p.State == "open" {
		is.closedAt = time.Time{}
	}
	is.updatedAt = now

	head := st.ensureRepo(p.HeadOwner, p.HeadRepo)
	if head != r {
		head.fork = true
	}
	head.refs[p.HeadRef] = p.HeadSHA
	if _, ok := r.refs[p.BaseRef]; !ok {
		r.refs[p.BaseRef] = fakeSHA(r.fullName(), p.BaseRef)
	}
	st.userID(p.User)
	st.userID(p.HeadOwner)
}

// Roles SetPermission accepts, and the permission GitHub reports for each.
var rolePermission = map[string]string{
	"admin": "admin", "maintain": "write", "write": "write",
	"triage": "read", "read": "read", "none": "none",
}

// SetPermission gives user a role on the repository: "admin", "maintain",
// "write", "triage", "read" or "none". The permission endpoint reports
// the role as role_name and its classic equivalent as permission.
func (s *Server) SetPermission(owner, repo, user, role string) {
	if _, ok := rolePermission[role]; !ok {
		panic(fmt.Sprintf("ghsim: SetPermission: unknown role %q", role))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ensureRepo(owner, repo).perms[strings.ToLower(user)] = role
	s.st.userID(user)
}

// TokenSpec is what a token may do and who it acts as.
type TokenSpec struct {
	// Label names the token in the request log instead of its value.
	// Default: Login.
	Label string
	// Login is the identity that authors comments and deployments, e.g.
	// "github-actions[bot]" (default) or a user for a personal token.
	Login string
	// Type is "Bot" or "User"; default "Bot" when Login ends in "[bot]".
	Type string

	// AllRepos grants every repository (of Account, when set); otherwise
	// only Repos ("owner/repo"). Other repositories answer 404, as
	// private ones do.
	AllRepos bool
	Account  string
	Repos    []string

	// Permissions maps GitHub App permission names ("issues",
	// "pull_requests", "deployments", "contents", ...) to "read",
	// "write" or "admin". Metadata read is always granted. Nil means
	// unrestricted, like a classic personal access token.
	Permissions map[string]string

	// Scopes, when not nil, are a classic personal access token's OAuth
	// scopes, sent back in X-OAuth-Scopes as GitHub does for such tokens.
	Scopes []string

	// ExpiresAt, when set, makes the token answer 401 from then on.
	ExpiresAt time.Time
	// RateLimit is the hourly primary rate limit; default 5000.
	RateLimit int
}

// tokenState is a registered token with its rate-limit window.
type tokenState struct {
	spec        TokenSpec
	repos       map[string]bool
	used        int
	windowReset time.Time
	writes      []time.Time // content writes in the last minute
	minted      int         // index in state.minted; -1 for a token not minted here
	revoked     bool        // DELETE /installation/token: answers 401 from then on
}

// AddToken registers a credential. Requests carrying it (as "token X",
// "Bearer X" or a Basic password) act with spec's identity and scope.
func (s *Server) AddToken(token string, spec TokenSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.addToken(token, spec)
}

func (st *state) addToken(token string, spec TokenSpec) *tokenState {
	if spec.Login == "" {
		spec.Login = "github-actions[bot]"
	}
	if spec.Label == "" {
		spec.Label = spec.Login
	}
	if spec.RateLimit <= 0 {
		spec.RateLimit = 5000
	}
	spec.Repos = slices.Clone(spec.Repos)
	spec.Permissions = maps.Clone(spec.Permissions)
	spec.Scopes = slices.Clone(spec.Scopes)
	t := &tokenState{spec: spec, repos: map[string]bool{}, minted: -1}
	for _, full := range spec.Repos {
		t.repos[strings.ToLower(full)] = true
	}
	st.tokens[token] = t
	st.userID(spec.Login)
	return t
}

// TokenScope reports what a registered or minted token may do, so a test
// can check the scope of a token the code under test passed onwards.
func (s *Server) TokenScope(token string) (TokenSpec, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.tokens[token]
	if t == nil {
		return TokenSpec{}, false
	}
	spec := t.spec
	spec.Repos = slices.Clone(spec.Repos)
	spec.Permissions = maps.Clone(spec.Permissions)
	return spec, true
}

func (t *tokenState) userType() string {
	if t.spec.Type != "" {
		return t.spec.Type
	}
	return loginType(t.spec.Login)
}

func (t *tokenState) canSee(r *repoState) bool {
	if t.spec.AllRepos {
		return t.spec.Account == "" || lower(t.spec.Account) == lower(r.owner)
	}
	return t.repos[repoKey(r.owner, r.name)]
}

// has reports whether the token holds any of n.perms at n.level.
func (t *tokenState) has(n need) bool {
	if len(n.perms) == 0 || t.spec.Permissions == nil {
		return true
	}
	for _, p := range n.perms {
		if p == "metadata" || levelOf(t.spec.Permissions[p]) >= n.level {
			return true
		}
	}
	return false
}

func levelOf(s string) int {
	switch s {
	case "read":
		return levelRead
	case "write":
		return levelWrite
	case "admin":
		return levelAdmin
	}
	return levelNone
}
