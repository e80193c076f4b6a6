package ghsim

import (
	"net/http"
	"strconv"
)

// Reaction is one reaction on a comment.
type Reaction struct {
	ID      int64
	User    string
	Content string
}

// reactionContents are the values GitHub's reactions API accepts
// ("Create reaction for an issue comment": +1, -1, laugh, confused,
// heart, hooray, rocket, eyes).
var reactionContents = map[string]bool{
	"+1": true, "-1": true, "laugh": true, "confused": true,
	"heart": true, "hooray": true, "rocket": true, "eyes": true,
}

// getAuthenticatedUser answers GET /user. GitHub answers it for a person's
// token and refuses an installation token (GITHUB_TOKEN included) with 403
// "Resource not accessible by integration"; a classic token's scopes come
// back in X-OAuth-Scopes (set for every answer in serve).
func (c *call) getAuthenticatedUser() {
	t := c.who.tok
	if t.userType() != "User" {
		writeError(c.w, http.StatusForbidden, msgNotAccessible)
		return
	}
	writeJSON(c.w, http.StatusOK, c.user(t.spec.Login, "User"))
}

// revokeInstallationToken answers DELETE /installation/token: "Revokes the
// installation token you're using to authenticate as an installation",
// 204 No Content; the token answers 401 from then on.
func (c *call) revokeInstallationToken() {
	t := c.who.tok
	if t.minted < 0 {
		writeError(c.w, http.StatusForbidden, msgNotAccessiblePAT)
		return
	}
	t.revoked = true
	c.s.st.minted[t.minted].Revoked = true
	c.w.WriteHeader(http.StatusNoContent)
}

// createCommentReaction answers POST .../issues/comments/{id}/reactions:
// 201 with the new reaction, or 200 with the existing one when this user
// already reacted so.
func (c *call) createCommentReaction() {
	id, ok := c.intParam("id")
	if !ok {
		return
	}
	cm := c.s.st.comments[id]
	if cm == nil || cm.Owner != c.repo.owner || cm.Repo != c.repo.name {
		c.notFound()
		return
	}
	var req struct {
		Content string `json:"content"`
	}
	if !c.decode(&req) {
		return
	}
	if !reactionContents[req.Content] {
		c.invalid("Reaction", "content", "invalid", "content is not a valid reaction")
		return
	}
	login := c.who.tok.spec.Login
	status := http.StatusOK
	var r *Reaction
	for i := range cm.Reactions {
		if cm.Reactions[i].User == login && cm.Reactions[i].Content == req.Content {
			r = &cm.Reactions[i]
		}
	}
	if r == nil {
		c.s.st.nextReactionID++
		cm.Reactions = append(cm.Reactions, Reaction{ID: c.s.st.nextReactionID, User: login, Content: req.Content})
		r, status = &cm.Reactions[len(cm.Reactions)-1], http.StatusCreated
	}
	writeJSON(c.w, status, struct {
		ID        int64    `json:"id"`
		NodeID    string   `json:"node_id"`
		User      userJSON `json:"user"`
		Content   string   `json:"content"`
		CreatedAt string   `json:"created_at"`
	}{r.ID, nodeID("Reaction", r.ID), c.user(login, c.who.tok.userType()), r.Content, ts(c.s.now())})
}

// String names a reaction in test failures: "login:content#id".
func (r Reaction) String() string {
	return r.User + ":" + r.Content + "#" + strconv.FormatInt(r.ID, 10)
}
