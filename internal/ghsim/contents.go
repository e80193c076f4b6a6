package ghsim

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
)

// maxInlineContent is the size above which GitHub stops inlining a file
// in the contents API (encoding "none", empty content).
const maxInlineContent = 1 << 20

type contentLinks struct {
	Self string `json:"self"`
	Git  string `json:"git"`
	HTML string `json:"html"`
}

type contentJSON struct {
	Type        string       `json:"type"`
	Encoding    string       `json:"encoding,omitempty"`
	Size        int          `json:"size"`
	Name        string       `json:"name"`
	Path        string       `json:"path"`
	Content     *string      `json:"content,omitempty"`
	SHA         string       `json:"sha"`
	URL         string       `json:"url"`
	GitURL      string       `json:"git_url"`
	HTMLURL     string       `json:"html_url"`
	DownloadURL *string      `json:"download_url"`
	Links       contentLinks `json:"_links"`
}

// getContents serves a file (base64, wrapped at 60 columns like GitHub,
// or the bytes themselves when the Accept header asks for the raw media
// type) or a directory listing, from the branch the ref resolves to.
func (c *call) getContents() {
	ref := c.r.URL.Query().Get("ref")
	repo, branch, ok := c.s.st.resolveRef(c.repo, ref)
	if !ok {
		writeError(c.w, http.StatusNotFound, "No commit found for the ref "+ref)
		return
	}
	p := strings.Trim(c.params["path"], "/")
	files := repo.files[branch]
	if content, ok := files[p]; ok {
		if strings.Contains(c.r.Header.Get("Accept"), ".raw") {
			writeRaw(c.w, content)
			return
		}
		writeJSON(c.w, http.StatusOK, c.contentJSON(repo, branch, p, "file", &content))
		return
	}
	seen := map[string]bool{}
	var entries []contentJSON
	for _, name := range sortedKeys(files) {
		rest, ok := strings.CutPrefix(name, p+"/")
		if p == "" {
			rest, ok = name, true
		}
		if !ok {
			continue
		}
		child, _, isDir := strings.Cut(rest, "/")
		if seen[child] {
			continue
		}
		seen[child] = true
		full := path.Join(p, child)
		if isDir {
			entries = append(entries, c.contentJSON(repo, branch, full, "dir", nil))
		} else {
			content := files[full]
			e := c.contentJSON(repo, branch, full, "file", &content)
			e.Content, e.Encoding = nil, ""
			entries = append(entries, e)
		}
	}
	if entries == nil {
		c.notFound()
		return
	}
	writeJSON(c.w, http.StatusOK, entries)
}

func (c *call) contentJSON(r *repoState, branch, p, typ string, content *string) contentJSON {
	esc := escapePath(p)
	self := c.repoURL(r) + "/contents/" + esc + "?ref=" + url.QueryEscape(branch)
	html := webURL + "/" + r.fullName() + "/" + map[string]string{"file": "blob", "dir": "tree"}[typ] + "/" + branch + "/" + esc
	e := contentJSON{Type: typ, Name: path.Base(p), Path: p, URL: self, HTMLURL: html}
	if content == nil {
		e.SHA = fakeSHA(r.fullName(), branch, p)
	} else {
		e.SHA = gitBlobSHA(*content)
		e.Size = len(*content)
		// GitHub points at raw.githubusercontent.com; pointing at the
		// simulator keeps go-github's DownloadContents off the network.
		dl := c.apiBase() + "raw/" + r.fullName() + "/" + url.PathEscape(branch) + "/" + esc
		e.DownloadURL = &dl
		e.Encoding = "base64"
		enc := wrap60(base64.StdEncoding.EncodeToString([]byte(*content)))
		if len(*content) > maxInlineContent {
			e.Encoding, enc = "none", ""
		}
		e.Content = &enc
	}
	e.GitURL = c.repoURL(r) + "/git/" + map[string]string{"file": "blobs", "dir": "trees"}[typ] + "/" + e.SHA
	e.Links = contentLinks{Self: e.URL, Git: e.GitURL, HTML: e.HTMLURL}
	return e
}

// getRaw serves download_url: a file's bytes on a branch.
func (c *call) getRaw() {
	repo, branch, ok := c.s.st.resolveRef(c.repo, c.params["ref"])
	if !ok {
		c.notFound()
		return
	}
	content, ok := repo.files[branch][strings.Trim(c.params["path"], "/")]
	if !ok {
		c.notFound()
		return
	}
	writeRaw(c.w, content)
}

func writeRaw(w http.ResponseWriter, content string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(content))
}

func wrap60(s string) string {
	var b strings.Builder
	for len(s) > 60 {
		b.WriteString(s[:60])
		b.WriteByte('\n')
		s = s[60:]
	}
	b.WriteString(s)
	b.WriteByte('\n')
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// getPermission answers the collaborator permission endpoint. The owner
// is admin unless told otherwise; a known user without a role has none;
// a login the simulator never heard of is 404, as for a missing account.
func (c *call) getPermission() {
	login := c.params["user"]
	if _, ok := c.s.st.users[lower(login)]; !ok {
		c.notFound()
		return
	}
	role := c.repo.perms[lower(login)]
	if role == "" {
		role = "none"
		if lower(login) == lower(c.repo.owner) {
			role = "admin"
		}
	}
	perm := rolePermission[role]
	type userWithRole struct {
		userJSON
		Permissions map[string]bool `json:"permissions"`
		RoleName    string          `json:"role_name"`
	}
	rank := map[string]int{"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}[role]
	writeJSON(c.w, http.StatusOK, struct {
		Permission string       `json:"permission"`
		RoleName   string       `json:"role_name"`
		User       userWithRole `json:"user"`
	}{perm, role, userWithRole{
		userJSON: c.user(login, ""), RoleName: role,
		Permissions: map[string]bool{
			"pull": rank >= 1, "triage": rank >= 2, "push": rank >= 3, "maintain": rank >= 4, "admin": rank >= 5,
		},
	}})
}

func (c *call) listLabels() {
	if is := c.issue(); is != nil {
		lo, hi := c.page(len(is.spec.Labels))
		writeJSON(c.w, http.StatusOK, c.labelsJSON(is.spec.Labels[lo:hi]))
	}
}

// addLabels accepts both body forms GitHub does: {"labels": [...]} and a
// bare array (what go-github sends).
func (c *call) addLabels() {
	is := c.issue()
	if is == nil {
		return
	}
	var names []string
	if json.Unmarshal(c.body, &names) != nil {
		var in struct {
			Labels []string `json:"labels"`
		}
		if !c.decode(&in) {
			return
		}
		names = in.Labels
	}
	for _, n := range names {
		if !slices.Contains(is.spec.Labels, n) {
			is.spec.Labels = append(is.spec.Labels, n)
		}
	}
	is.updatedAt = c.s.now()
	c.s.stats.LabelWrites++
	writeJSON(c.w, http.StatusOK, c.labelsJSON(is.spec.Labels))
}

func (c *call) removeLabel() {
	is := c.issue()
	if is == nil {
		return
	}
	name := c.params["name"]
	i := slices.Index(is.spec.Labels, name)
	if i < 0 {
		writeError(c.w, http.StatusNotFound, "Label does not exist")
		return
	}
	is.spec.Labels = slices.Delete(is.spec.Labels, i, i+1)
	is.updatedAt = c.s.now()
	c.s.stats.LabelWrites++
	writeJSON(c.w, http.StatusOK, c.labelsJSON(is.spec.Labels))
}
