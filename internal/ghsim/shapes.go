package ghsim

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// apiBase is the absolute API root including the prefix, as GitHub puts it
// in url fields and Link headers: derived from the request's Host, which is
// where the client reached the simulator.
func (c *call) apiBase() string {
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.r.Host + c.s.prefix
}

// nodeID builds a legacy-format GraphQL node id ("MDQ6VXNlcjE=" style).
func nodeID(typ string, id int64) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "0%d:%s%d", len(typ), typ, id))
}

// ts formats a time the way the REST API does.
func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// tsPtr is ts for nullable timestamps.
func tsPtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := ts(t)
	return &s
}

type userJSON struct {
	Login      string `json:"login"`
	ID         int64  `json:"id"`
	NodeID     string `json:"node_id"`
	AvatarURL  string `json:"avatar_url"`
	GravatarID string `json:"gravatar_id"`
	URL        string `json:"url"`
	HTMLURL    string `json:"html_url"`
	Type       string `json:"type"`
	SiteAdmin  bool   `json:"site_admin"`
}

func loginType(login string) string {
	if strings.HasSuffix(login, "[bot]") {
		return "Bot"
	}
	return "User"
}

func (c *call) user(login, typ string) userJSON {
	if typ == "" {
		typ = loginType(login)
	}
	id := c.s.st.userID(login)
	html := webURL + "/" + login
	if slug, ok := strings.CutSuffix(login, "[bot]"); ok {
		html = webURL + "/apps/" + slug
	}
	return userJSON{
		Login: login, ID: id, NodeID: nodeID(typ, id),
		AvatarURL: "https://avatars.githubusercontent.com/u/" + strconv.FormatInt(id, 10) + "?v=4",
		URL:       c.apiBase() + "users/" + url.PathEscape(login),
		HTMLURL:   html, Type: typ,
	}
}

type repoJSON struct {
	ID            int64    `json:"id"`
	NodeID        string   `json:"node_id"`
	Name          string   `json:"name"`
	FullName      string   `json:"full_name"`
	Private       bool     `json:"private"`
	Owner         userJSON `json:"owner"`
	HTMLURL       string   `json:"html_url"`
	Description   *string  `json:"description"`
	Fork          bool     `json:"fork"`
	URL           string   `json:"url"`
	DefaultBranch string   `json:"default_branch"`
	Visibility    string   `json:"visibility"`
}

func (c *call) repoJSON(r *repoState) repoJSON {
	return repoJSON{
		ID: r.id, NodeID: nodeID("Repository", r.id), Name: r.name, FullName: r.fullName(),
		Private: true, Owner: c.user(r.owner, "User"),
		HTMLURL: webURL + "/" + r.fullName(), Fork: r.fork,
		URL: c.repoURL(r), DefaultBranch: r.defaultBranch, Visibility: "private",
	}
}

// repoURL is the API url of a repository, without a trailing slash.
func (c *call) repoURL(r *repoState) string {
	return c.apiBase() + "repos/" + r.owner + "/" + r.name
}

func (c *call) getRepo() { writeJSON(c.w, 200, c.repoJSON(c.repo)) }
