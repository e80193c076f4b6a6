package ghsim

import (
	"hash/fnv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

type labelJSON struct {
	ID          int64   `json:"id"`
	NodeID      string  `json:"node_id"`
	URL         string  `json:"url"`
	Name        string  `json:"name"`
	Color       string  `json:"color"`
	Default     bool    `json:"default"`
	Description *string `json:"description"`
}

func (c *call) labelJSON(name string) labelJSON {
	h := fnv.New32a()
	h.Write([]byte(lower(c.repo.fullName() + "\x00" + name)))
	id := int64(h.Sum32())
	return labelJSON{
		ID: id, NodeID: nodeID("Label", id), Name: name, Color: "ededed",
		URL: c.repoURL(c.repo) + "/labels/" + url.PathEscape(name),
	}
}

func (c *call) labelsJSON(names []string) []labelJSON {
	out := make([]labelJSON, 0, len(names))
	for _, n := range names {
		out = append(out, c.labelJSON(n))
	}
	return out
}

type branchJSON struct {
	Label string   `json:"label"`
	Ref   string   `json:"ref"`
	SHA   string   `json:"sha"`
	User  userJSON `json:"user"`
	Repo  repoJSON `json:"repo"`
}

type pullJSON struct {
	URL                 string      `json:"url"`
	ID                  int64       `json:"id"`
	NodeID              string      `json:"node_id"`
	HTMLURL             string      `json:"html_url"`
	DiffURL             string      `json:"diff_url"`
	PatchURL            string      `json:"patch_url"`
	IssueURL            string      `json:"issue_url"`
	CommitsURL          string      `json:"commits_url"`
	CommentsURL         string      `json:"comments_url"`
	StatusesURL         string      `json:"statuses_url"`
	Number              int         `json:"number"`
	State               string      `json:"state"`
	Locked              bool        `json:"locked"`
	Title               string      `json:"title"`
	User                userJSON    `json:"user"`
	Body                *string     `json:"body"`
	Labels              []labelJSON `json:"labels"`
	CreatedAt           string      `json:"created_at"`
	UpdatedAt           string      `json:"updated_at"`
	ClosedAt            *string     `json:"closed_at"`
	MergedAt            *string     `json:"merged_at"`
	MergeCommitSHA      *string     `json:"merge_commit_sha"`
	Head                branchJSON  `json:"head"`
	Base                branchJSON  `json:"base"`
	AuthorAssociation   string      `json:"author_association"`
	Draft               bool        `json:"draft"`
	Merged              bool        `json:"merged"`
	Comments            int         `json:"comments"`
	Commits             int         `json:"commits"`
	Additions           int         `json:"additions"`
	Deletions           int         `json:"deletions"`
	ChangedFiles        int         `json:"changed_files"`
	MaintainerCanModify bool        `json:"maintainer_can_modify"`
}

func (c *call) pullJSON(is *issueState) pullJSON {
	r, p := c.repo, is.spec
	head := c.s.st.headRepo(r, is)
	n := strconv.Itoa(p.Number)
	self := c.repoURL(r) + "/pulls/" + n
	html := webURL + "/" + r.fullName() + "/pull/" + n
	var body, mergedAt, mergeSHA *string
	if p.Body != "" {
		body = &p.Body
	}
	if p.Merged {
		mergedAt = tsPtr(is.closedAt)
		sha := fakeSHA(r.fullName(), "merge", n, p.HeadSHA)
		mergeSHA = &sha
	}
	return pullJSON{
		URL: self, ID: is.id, NodeID: nodeID("PullRequest", is.id), HTMLURL: html,
		DiffURL: html + ".diff", PatchURL: html + ".patch", IssueURL: c.repoURL(r) + "/issues/" + n,
		CommitsURL: self + "/commits", CommentsURL: c.repoURL(r) + "/issues/" + n + "/comments",
		StatusesURL: c.repoURL(head) + "/statuses/" + p.HeadSHA,
		Number:      p.Number, State: p.State, Title: p.Title, User: c.user(p.User, ""), Body: body,
		Labels:    c.labelsJSON(p.Labels),
		CreatedAt: ts(is.createdAt), UpdatedAt: ts(is.updatedAt), ClosedAt: tsPtr(is.closedAt),
		MergedAt: mergedAt, MergeCommitSHA: mergeSHA,
		Head: branchJSON{
			Label: head.owner + ":" + p.HeadRef, Ref: p.HeadRef, SHA: p.HeadSHA,
			User: c.user(head.owner, "User"), Repo: c.repoJSON(head),
		},
		Base: branchJSON{
			Label: r.owner + ":" + p.BaseRef, Ref: p.BaseRef, SHA: r.refs[p.BaseRef],
			User: c.user(r.owner, "User"), Repo: c.repoJSON(r),
		},
		AuthorAssociation: association(r, p.User),
		Draft:             p.Draft, Merged: p.Merged, Comments: len(is.comments), Commits: 1,
		Additions: len(p.Files), Deletions: len(p.Files), ChangedFiles: len(p.Files),
	}
}

// pull looks up the {number} parameter, answering 404 for plain issues as
// GitHub does.
func (c *call) pull() *issueState {
	is := c.issue()
	if is != nil && !is.isPull {
		c.notFound()
		return nil
	}
	return is
}

func (c *call) getPull() {
	if is := c.pull(); is != nil {
		writeJSON(c.w, http.StatusOK, c.pullJSON(is))
	}
}

func (c *call) listPulls() {
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var match []*issueState
	for _, is := range c.repo.issues {
		p := is.spec
		if !is.isPull ||
			(state != "all" && state != p.State) ||
			(q.Get("base") != "" && q.Get("base") != p.BaseRef) ||
			(q.Get("head") != "" && q.Get("head") != p.HeadOwner+":"+p.HeadRef) {
			continue
		}
		match = append(match, is)
	}
	// GitHub's default order: newest first.
	slices.SortFunc(match, func(a, b *issueState) int { return b.spec.Number - a.spec.Number })
	lo, hi := c.page(len(match))
	out := make([]pullJSON, 0, hi-lo)
	for _, is := range match[lo:hi] {
		out = append(out, c.pullJSON(is))
	}
	writeJSON(c.w, http.StatusOK, out)
}

type pullFileJSON struct {
	SHA         string `json:"sha"`
	Filename    string `json:"filename"`
	Status      string `json:"status"`
	Additions   int    `json:"additions"`
	Deletions   int    `json:"deletions"`
	Changes     int    `json:"changes"`
	BlobURL     string `json:"blob_url"`
	RawURL      string `json:"raw_url"`
	ContentsURL string `json:"contents_url"`
}

// maxPullFiles is how many files GitHub lists for one pull request.
const maxPullFiles = 3000

func (c *call) listPullFiles() {
	is := c.pull()
	if is == nil {
		return
	}
	p := is.spec
	files := p.Files[:min(len(p.Files), maxPullFiles)]
	head := c.s.st.headRepo(c.repo, is)
	lo, hi := c.page(len(files))
	out := make([]pullFileJSON, 0, hi-lo)
	for _, f := range files[lo:hi] {
		esc := escapePath(f)
		out = append(out, pullFileJSON{
			SHA: fakeSHA(head.fullName(), p.HeadSHA, f), Filename: f, Status: "modified",
			Additions: 1, Deletions: 1, Changes: 2,
			BlobURL:     webURL + "/" + head.fullName() + "/blob/" + p.HeadSHA + "/" + esc,
			RawURL:      webURL + "/" + head.fullName() + "/raw/" + p.HeadSHA + "/" + esc,
			ContentsURL: c.repoURL(c.repo) + "/contents/" + esc + "?ref=" + p.HeadSHA,
		})
	}
	writeJSON(c.w, http.StatusOK, out)
}

// escapePath escapes each segment of a repository path.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}
