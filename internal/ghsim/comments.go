package ghsim

import (
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// MaxCommentLength is GitHub's limit on a comment body, in characters.
const MaxCommentLength = 65536

// Comment is an issue or pull request comment as the simulator holds it.
type Comment struct {
	ID          int64
	Owner, Repo string
	Issue       int
	Body        string
	User        string // author login: the identity of the token that wrote it
	UserType    string // "Bot" or "User"
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Reactions   []Reaction
}

// Comments returns the comments on issue or pull request n, oldest first.
func (s *Server) Comments(owner, repo string, n int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.repo(owner, repo)
	if r == nil || r.issues[n] == nil {
		return nil
	}
	var out []Comment
	for _, id := range r.issues[n].comments {
		c := *s.st.comments[id]
		c.Reactions = slices.Clone(c.Reactions)
		out = append(out, c)
	}
	return out
}

// AddComment seeds a comment as if login had written it (e.g. an old
// sticky comment, or a human's reply) and returns its id.
func (s *Server) AddComment(owner, repo string, n int, login, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.ensureRepo(owner, repo)
	is := r.issues[n]
	if is == nil {
		is = s.st.addIssue(r, n, "Issue #"+strconv.Itoa(n), s.now())
	}
	return s.st.addComment(r, is, login, loginType(login), body, s.now()).ID
}

func (st *state) addComment(r *repoState, is *issueState, login, typ, body string, now time.Time) *Comment {
	st.nextCommentID++
	cm := &Comment{
		ID: st.nextCommentID, Owner: r.owner, Repo: r.name, Issue: is.spec.Number,
		Body: body, User: login, UserType: typ, CreatedAt: now, UpdatedAt: now,
	}
	st.comments[cm.ID] = cm
	is.comments = append(is.comments, cm.ID)
	st.userID(login)
	return cm
}

type commentJSON struct {
	ID                int64    `json:"id"`
	NodeID            string   `json:"node_id"`
	URL               string   `json:"url"`
	HTMLURL           string   `json:"html_url"`
	IssueURL          string   `json:"issue_url"`
	Body              string   `json:"body"`
	User              userJSON `json:"user"`
	CreatedAt         string   `json:"created_at"`
	UpdatedAt         string   `json:"updated_at"`
	AuthorAssociation string   `json:"author_association"`
}

func (c *call) commentJSON(cm *Comment) commentJSON {
	r := c.repo
	kind := "issues"
	if is := r.issues[cm.Issue]; is != nil && is.isPull {
		kind = "pull"
	}
	n := strconv.Itoa(cm.Issue)
	id := strconv.FormatInt(cm.ID, 10)
	return commentJSON{
		ID: cm.ID, NodeID: nodeID("IssueComment", cm.ID),
		URL:               c.repoURL(r) + "/issues/comments/" + id,
		HTMLURL:           webURL + "/" + r.fullName() + "/" + kind + "/" + n + "#issuecomment-" + id,
		IssueURL:          c.repoURL(r) + "/issues/" + n,
		Body:              cm.Body,
		User:              c.user(cm.User, cm.UserType),
		CreatedAt:         ts(cm.CreatedAt),
		UpdatedAt:         ts(cm.UpdatedAt),
		AuthorAssociation: association(r, cm.User),
	}
}

// association is the author_association GitHub reports for login.
func association(r *repoState, login string) string {
	switch {
	case login == r.owner:
		return "OWNER"
	case r.perms[lower(login)] != "" && r.perms[lower(login)] != "none":
		return "COLLABORATOR"
	}
	return "NONE"
}

// issue looks up the {number} parameter, answering 404 if it is unknown.
func (c *call) issue() *issueState {
	n, ok := c.intParam("number")
	if !ok {
		return nil
	}
	is := c.repo.issues[int(n)]
	if is == nil {
		c.notFound()
	}
	return is
}

// comment looks up the {id} parameter within the request's repository.
func (c *call) comment() *Comment {
	id, ok := c.intParam("id")
	if !ok {
		return nil
	}
	cm := c.s.st.comments[id]
	if cm == nil || repoKey(cm.Owner, cm.Repo) != repoKey(c.repo.owner, c.repo.name) {
		c.notFound()
		return nil
	}
	return cm
}

func (c *call) listComments() {
	is := c.issue()
	if is == nil {
		return
	}
	lo, hi := c.page(len(is.comments))
	out := make([]commentJSON, 0, hi-lo)
	for _, id := range is.comments[lo:hi] {
		out = append(out, c.commentJSON(c.s.st.comments[id]))
	}
	writeJSON(c.w, http.StatusOK, out)
}

// commentBody validates a create or edit request body as GitHub does.
func (c *call) commentBody() (string, bool) {
	var in struct {
		Body *string `json:"body"`
	}
	if !c.decode(&in) {
		return "", false
	}
	switch {
	case in.Body == nil:
		writeError(c.w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"body\" wasn't supplied.")
		return "", false
	case *in.Body == "":
		c.invalid("IssueComment", "body", "missing_field", "")
		return "", false
	case utf8.RuneCountInString(*in.Body) > MaxCommentLength:
		c.invalid("IssueComment", "body", "custom", "body is too long (maximum is 65536 characters)")
		return "", false
	}
	return *in.Body, true
}

func (c *call) createComment() {
	is := c.issue()
	if is == nil {
		return
	}
	body, ok := c.commentBody()
	if !ok {
		return
	}
	cm := c.s.st.addComment(c.repo, is, c.who.tok.spec.Login, c.who.tok.userType(), body, c.s.now())
	c.s.stats.CommentCreates++
	c.w.Header().Set("Location", c.repoURL(c.repo)+"/issues/comments/"+strconv.FormatInt(cm.ID, 10))
	writeJSON(c.w, http.StatusCreated, c.commentJSON(cm))
}

func (c *call) getComment() {
	if cm := c.comment(); cm != nil {
		writeJSON(c.w, http.StatusOK, c.commentJSON(cm))
	}
}

func (c *call) updateComment() {
	cm := c.comment()
	if cm == nil {
		return
	}
	body, ok := c.commentBody()
	if !ok {
		return
	}
	cm.Body = body
	cm.UpdatedAt = c.s.now()
	c.s.stats.CommentUpdates++
	writeJSON(c.w, http.StatusOK, c.commentJSON(cm))
}

func (c *call) deleteComment() {
	cm := c.comment()
	if cm == nil {
		return
	}
	delete(c.s.st.comments, cm.ID)
	if is := c.repo.issues[cm.Issue]; is != nil {
		is.comments = slices.DeleteFunc(is.comments, func(id int64) bool { return id == cm.ID })
	}
	c.s.stats.CommentDeletes++
	c.w.WriteHeader(http.StatusNoContent)
}
