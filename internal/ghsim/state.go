package ghsim

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// state is everything the simulator knows. It is guarded by Server.mu.
type state struct {
	repos       map[string]*repoState // key: lower("owner/repo")
	reposByID   map[int64]*repoState
	tokens      map[string]*tokenState
	apps        map[int64]*appState
	inst        map[int64]*installState
	users       map[string]int64 // lower(login) → id
	comments    map[int64]*Comment
	deployments map[int64]*Deployment
	minted      []MintedToken
	// Apps registered through the manifest flow, and their codes.
	created       []*CreatedApp
	manifestCodes map[string]*manifestCode

	nextRepoID, nextUserID, nextCommentID, nextDeployID, nextStatusID, nextIssueID int64
	nextReactionID                                                                 int64
}

func (st *state) init() {
	st.repos = map[string]*repoState{}
	st.reposByID = map[int64]*repoState{}
	st.tokens = map[string]*tokenState{}
	st.apps = map[int64]*appState{}
	st.inst = map[int64]*installState{}
	st.users = map[string]int64{}
	st.comments = map[int64]*Comment{}
	st.deployments = map[int64]*Deployment{}
	st.manifestCodes = map[string]*manifestCode{}
	// Distinct ranges make an id used in the wrong place fail loudly.
	st.nextRepoID = 700000000
	st.nextUserID = 10000
	st.nextCommentID = 2000000000
	st.nextDeployID = 1000000000
	st.nextStatusID = 3000000000
	st.nextIssueID = 1500000000
}

// repoState is one repository. Repositories are private: a token that
// does not cover one gets 404, as on GitHub.
type repoState struct {
	id            int64
	owner, name   string
	fork          bool
	defaultBranch string
	refs          map[string]string            // branch → head sha
	files         map[string]map[string]string // branch → path → content
	issues        map[int]*issueState          // pulls and plain issues share numbers
	perms         map[string]string            // lower(login) → role
}

func (r *repoState) fullName() string { return r.owner + "/" + r.name }

// issueState is an issue or a pull request (isPull).
type issueState struct {
	id                   int64
	spec                 PullSpec
	isPull               bool
	createdAt, updatedAt time.Time
	closedAt             time.Time
	comments             []int64 // ids, oldest first
}

func lower(s string) string { return strings.ToLower(s) }

func repoKey(owner, repo string) string { return strings.ToLower(owner + "/" + repo) }

func (st *state) repo(owner, name string) *repoState { return st.repos[repoKey(owner, name)] }

// ensureRepo returns the repository, creating it on first mention so
// seeding calls need not be ordered.
func (st *state) ensureRepo(owner, name string) *repoState {
	if r := st.repo(owner, name); r != nil {
		return r
	}
	st.nextRepoID++
	r := &repoState{
		id: st.nextRepoID, owner: owner, name: name, defaultBranch: "main",
		refs: map[string]string{}, files: map[string]map[string]string{},
		issues: map[int]*issueState{}, perms: map[string]string{},
	}
	r.refs["main"] = fakeSHA(r.fullName(), "main")
	st.repos[repoKey(owner, name)] = r
	st.reposByID[r.id] = r
	st.userID(owner)
	return r
}

// userID returns a stable id for login, registering the user.
func (st *state) userID(login string) int64 {
	k := strings.ToLower(login)
	if id, ok := st.users[k]; ok {
		return id
	}
	st.nextUserID++
	st.users[k] = st.nextUserID
	return st.nextUserID
}

// unalias turns "repositories/{id}/rest" (the form GitHub uses in Link
// headers) into "repos/{owner}/{repo}/rest".
func (st *state) unalias(path string) string {
	rest, ok := strings.CutPrefix(path, "repositories/")
	if !ok {
		return path
	}
	idStr, tail, _ := strings.Cut(rest, "/")
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil || st.reposByID[id] == nil {
		return path
	}
	r := st.reposByID[id]
	p := "repos/" + r.owner + "/" + r.name
	if tail != "" {
		p += "/" + tail
	}
	return p
}

// fakeSHA is a deterministic 40-hex commit id for refs nobody named.
func fakeSHA(parts ...string) string {
	h := sha1.Sum([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])
}

// gitBlobSHA is the object id git gives content, as GitHub reports it.
func gitBlobSHA(content string) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write([]byte(content))
	return hex.EncodeToString(h.Sum(nil))
}

// resolveRef maps what a client passes as ref (branch, refs/heads/x,
// commit sha, refs/pull/N/head) to the repository and branch holding its
// files. ref "" means the default branch.
func (st *state) resolveRef(r *repoState, ref string) (*repoState, string, bool) {
	if ref == "" {
		return r, r.defaultBranch, true
	}
	ref = strings.TrimPrefix(strings.TrimPrefix(ref, "refs/"), "heads/")
	if _, ok := r.refs[ref]; ok {
		return r, ref, true
	}
	if n, ok := pullRefNumber(ref); ok {
		if is := r.issues[n]; is != nil && is.isPull {
			return st.headRepo(r, is), is.spec.HeadRef, true
		}
		return nil, "", false
	}
	for branch, sha := range r.refs {
		if sha == ref {
			return r, branch, true
		}
	}
	// GitHub serves a fork's PR head commits from the base repository too.
	for _, is := range r.issues {
		if is.isPull && is.spec.HeadSHA == ref {
			return st.headRepo(r, is), is.spec.HeadRef, true
		}
	}
	return nil, "", false
}

// pullRefNumber parses "pull/N/head" (after "refs/" was stripped).
func pullRefNumber(ref string) (int, bool) {
	rest, ok := strings.CutPrefix(ref, "pull/")
	if !ok {
		return 0, false
	}
	num, tail, _ := strings.Cut(rest, "/")
	n, err := strconv.Atoi(num)
	return n, err == nil && (tail == "head" || tail == "merge")
}

func (st *state) headRepo(base *repoState, is *issueState) *repoState {
	if h := st.repo(is.spec.HeadOwner, is.spec.HeadRepo); h != nil {
		return h
	}
	return base
}
