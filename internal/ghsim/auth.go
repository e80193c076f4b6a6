package ghsim

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Values of Request.Auth: how a request authenticated.
const (
	AuthNone    = "none"    // no Authorization header
	AuthToken   = "token"   // a registered token (AddToken or minted)
	AuthJWT     = "jwt"     // a valid App JWT
	AuthInvalid = "invalid" // a header that named no valid credential
)

// principal is who a request authenticated as.
type principal struct {
	kind string
	tok  *tokenState
	app  *appState
}

func (p principal) label() string {
	switch {
	case p.tok != nil:
		return p.tok.spec.Label
	case p.app != nil:
		return "app:" + strconv.FormatInt(p.app.id, 10)
	}
	return ""
}

// serve authenticates, routes, authorises and runs one request.
func (s *Server) serve(c *call) {
	s.mu.Lock()
	locked := true
	defer func() {
		if locked {
			s.mu.Unlock()
		}
	}()

	path := s.st.unalias(strings.TrimPrefix(c.path, "/"))
	who, status, msg := s.authenticate(c.r)
	c.who = who
	if who.tok != nil && who.tok.spec.Scopes != nil {
		c.w.Header().Set("X-OAuth-Scopes", strings.Join(who.tok.spec.Scopes, ", "))
	}
	c.entry.Auth = who.kind
	c.entry.Principal = who.label()
	if f := s.takeFault(c.r.Method, c.path); f != nil {
		c.entry.Fault = true
		s.stats.FaultsServed++
		s.writeFault(c.w, f)
		return
	}
	if status != 0 {
		writeError(c.w, status, msg)
		return
	}

	rt, params := match(c.r.Method, path)
	if rt == nil {
		c.notFound()
		return
	}
	c.params = params
	c.rpath = path

	switch {
	case rt.app && who.kind != AuthJWT:
		writeError(c.w, http.StatusUnauthorized, msgBadJWT)
		return
	case !rt.app && who.kind == AuthNone:
		writeError(c.w, http.StatusUnauthorized, msgRequiresAuth)
		return
	case !rt.app && who.kind == AuthJWT:
		// An App must exchange its JWT for an installation token first.
		writeError(c.w, http.StatusForbidden, msgNotAccessible)
		return
	}
	// GET /rate_limit is free on GitHub; everything else costs one.
	if who.tok != nil && !s.countRateLimit(c.w, who.tok, path != "rate_limit") {
		return
	}

	if owner, ok := params["owner"]; ok {
		c.repo = s.st.repo(owner, params["repo"])
		if c.repo == nil || (who.tok != nil && !who.tok.canSee(c.repo)) {
			c.notFound()
			return
		}
		if who.tok != nil && !who.tok.has(rt.need) {
			msg := msgNotAccessible
			if who.tok.userType() == "User" {
				msg = msgNotAccessiblePAT
			}
			writeError(c.w, http.StatusForbidden, msg)
			return
		}
	}

	if rt.mutates {
		if !s.allowContentWrite(who.tok) {
			s.stats.FaultsServed++
			c.entry.Fault = true
			s.writeFault(c.w, &Fault{Status: http.StatusForbidden, RetryAfter: time.Minute})
			return
		}
		s.stats.inFlight++
		s.stats.MaxConcurrentWrites = max(s.stats.MaxConcurrentWrites, s.stats.inFlight)
		defer func() { s.stats.inFlight-- }()
		if s.opts.OnWrite != nil {
			s.mu.Unlock()
			locked = false
			s.opts.OnWrite(c.r.Method, c.path)
			s.mu.Lock()
			locked = true
		}
	}
	rt.handle(c)
}

// authenticate maps the Authorization header to a principal. A non-zero
// status means the credential is bad and the request ends there, as on
// GitHub, whatever the path.
func (s *Server) authenticate(r *http.Request) (principal, int, string) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return principal{kind: AuthNone}, 0, ""
	}
	var cred string
	scheme, value, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "token", "bearer":
		cred = strings.TrimSpace(value)
	case "basic":
		// git and some clients send the token as the Basic password.
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
		if err == nil {
			_, cred, _ = strings.Cut(string(raw), ":")
		}
	}
	if cred == "" {
		return principal{kind: AuthInvalid}, http.StatusUnauthorized, msgBadCredentials
	}
	if looksLikeJWT(cred) {
		app, msg := s.verifyJWT(cred)
		if app == nil {
			return principal{kind: AuthInvalid}, http.StatusUnauthorized, msg
		}
		return principal{kind: AuthJWT, app: app}, 0, ""
	}
	tok := s.st.tokens[cred]
	if tok == nil || tok.revoked || (!tok.spec.ExpiresAt.IsZero() && !s.now().Before(tok.spec.ExpiresAt)) {
		return principal{kind: AuthInvalid}, http.StatusUnauthorized, msgBadCredentials
	}
	return principal{kind: AuthToken, tok: tok}, 0, ""
}

func looksLikeJWT(cred string) bool {
	parts := strings.Split(cred, ".")
	if len(parts) != 3 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return false
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	return json.Unmarshal(raw, &hdr) == nil && hdr.Alg != ""
}

// JWT claim errors, worded as GitHub words them.
const (
	msgJWTExpired   = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
	msgJWTTooLong   = "'Expiration time' claim ('exp') is too far in the future"
	msgJWTIssuedAt  = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
	msgJWTNoIssuer  = "'Issuer' claim ('iss') must be an Integer"
	maxJWTLifetime  = 10 * time.Minute
	allowedJWTDrift = 60 * time.Second
)

// verifyJWT checks an App JWT the way GitHub does: RS256 signed by the
// key registered for the App named in iss, exp in the future but at most
// ten minutes away, iat not in the future beyond a minute of clock drift.
func (s *Server) verifyJWT(raw string) (*appState, string) {
	parts := strings.Split(raw, ".")
	hdrJSON, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	claimsJSON, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, msgBadJWT
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		Iss json.RawMessage `json:"iss"`
		Iat *json.Number    `json:"iat"`
		Exp *json.Number    `json:"exp"`
	}
	if json.Unmarshal(hdrJSON, &hdr) != nil || hdr.Alg != "RS256" || json.Unmarshal(claimsJSON, &claims) != nil {
		return nil, msgBadJWT
	}
	iss := strings.Trim(string(claims.Iss), `"`)
	appID, err := strconv.ParseInt(iss, 10, 64)
	if err != nil {
		return nil, msgJWTNoIssuer
	}
	app := s.st.apps[appID]
	if app == nil {
		return nil, msgBadJWT
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(app.key, crypto.SHA256, digest[:], sig) != nil {
		return nil, msgBadJWT
	}
	now := s.now()
	exp, ok := numericDate(claims.Exp)
	if !ok || !exp.After(now) {
		return nil, msgJWTExpired
	}
	if exp.Sub(now) > maxJWTLifetime {
		return nil, msgJWTTooLong
	}
	iat, ok := numericDate(claims.Iat)
	if !ok || iat.Sub(now) > allowedJWTDrift {
		return nil, msgJWTIssuedAt
	}
	return app, ""
}

// numericDate reads a JWT NumericDate; GitHub refuses fractional ones.
func numericDate(n *json.Number) (time.Time, bool) {
	if n == nil {
		return time.Time{}, false
	}
	v, err := n.Int64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(v, 0), true
}
