package pgdb

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// uriParts is a postgres:// URI cut where libpq (and pgx) cut it. Go's
// net/url disagrees with libpq on user info containing '?' or '#' and on
// fragments, so the URI is split by hand and reassembled byte for byte.
type uriParts struct {
	scheme   string // "postgres://" or "postgresql://"
	userinfo string // raw, without the '@'
	hasUser  bool
	hosts    string // raw host[:port][,host[:port]...]
	path     string // raw database, without the leading '/'
	query    string // raw, without the leading '?'
	hasQuery bool
}

// splitURI cuts uri and validates its shape. It does not run pgx's parser,
// which would also load TLS files named in the query: that belongs to
// connecting (New), not to reading a config or rewriting a URL.
func splitURI(uri string) (uriParts, error) {
	p, err := cutURI(uri)
	if err != nil {
		return p, err
	}
	if strings.ContainsAny(uri, "\x00\n\r\t ") {
		return p, errors.New("the URL contains whitespace or control characters")
	}
	if p.hosts == "" {
		return p, errors.New("the URL names no host")
	}
	for _, h := range strings.Split(p.hosts, ",") {
		if err := checkHostPort(h); err != nil {
			return p, err
		}
	}
	if _, err := url.PathUnescape(p.userinfo); err != nil {
		return p, errors.New("the user or password has a malformed %-escape")
	}
	if strings.ContainsAny(p.path, "@/") {
		return p, errors.New("the database name holds '@' or '/' (if the password holds '/', write it as %2F)")
	}
	if _, err := url.PathUnescape(p.path); err != nil {
		return p, errors.New("the database name has a malformed %-escape")
	}
	return p, nil
}

func checkHostPort(h string) error {
	host, port := h, ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return errors.New("an IPv6 host lacks its closing ']'")
		}
		host, port = h[1:end], h[end+1:]
		if port != "" && !strings.HasPrefix(port, ":") {
			return errors.New("unexpected text after an IPv6 host")
		}
		port = strings.TrimPrefix(port, ":")
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 {
		host, port = h[:i], h[i+1:]
		if port == "" {
			return errors.New("a ':' is not followed by a port")
		}
	}
	if host == "" {
		return errors.New("a host name is empty")
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			// The port is not shown: with an unescaped '/' in the password,
			// what looks like a port is part of the password.
			return errors.New("a port is not a number from 1 to 65535 (if the password holds '/', '@' or ':', write them as %2F, %40, %3A)")
		}
	}
	return nil
}

// cutURI only cuts; it never fails on a postgres:// prefix, so it can also
// serve to redact URLs found in error messages.
func cutURI(uri string) (uriParts, error) {
	var p uriParts
	rest := uri
	for _, s := range []string{"postgresql://", "postgres://"} {
		if r, ok := strings.CutPrefix(uri, s); ok {
			p.scheme, rest = s, r
			break
		}
	}
	if p.scheme == "" {
		return p, errors.New("not a postgres:// or postgresql:// URL")
	}
	// Like libpq, only '/' ends the search for the user info, so an '@'
	// before the path always closes it.
	if i := strings.IndexAny(rest, "@/"); i >= 0 && rest[i] == '@' {
		p.userinfo, p.hasUser, rest = rest[:i], true, rest[i+1:]
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	p.hosts, rest = rest[:end], rest[end:]
	if r, ok := strings.CutPrefix(rest, "/"); ok {
		rest = r
		q := strings.IndexByte(rest, '?')
		if q < 0 {
			q = len(rest)
		}
		p.path, rest = rest[:q], rest[q:]
	}
	if r, ok := strings.CutPrefix(rest, "?"); ok {
		p.query, p.hasQuery = r, true
	}
	return p, nil
}

// RewriteDatabase returns uri with its database (the path) replaced by db.
// Everything else — user, password, hosts, ports and every query parameter,
// such as sslmode — is kept exactly as written. Errors never quote uri.
func RewriteDatabase(uri, db string) (string, error) {
	if db == "" {
		return "", errors.New("rewriting database URL: empty database name")
	}
	p, err := splitURI(uri)
	if err != nil {
		return "", fmt.Errorf("rewriting database URL: %w", err)
	}
	p.path = url.PathEscape(db)
	return p.String(), nil
}

// String reassembles the URI from its raw parts.
func (p uriParts) String() string {
	var b strings.Builder
	b.WriteString(p.scheme)
	if p.hasUser {
		b.WriteString(p.userinfo + "@")
	}
	b.WriteString(p.hosts + "/" + p.path)
	if p.hasQuery {
		b.WriteString("?" + p.query)
	}
	return b.String()
}

const mask = "xxxxx"

// PasswordForms returns the password of a server URI in every spelling it
// may take in text shown to people, so that all of them can be masked: as
// written in the URI (RewriteDatabase keeps the user info verbatim, so the
// app's database URLs carry this form, escapes and all), decoded, and
// escaped the two ways Go escapes it. No password, no forms.
func PasswordForms(uri string) []string {
	var forms []string
	if _, rest, ok := strings.Cut(uri, "://"); ok {
		// The authority ends where url.Parse ends it; the user info is up
		// to its last '@'.
		if end := strings.IndexAny(rest, "/?#"); end >= 0 {
			rest = rest[:end]
		}
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				forms = append(forms, pw)
			}
		}
	}
	if u, err := url.Parse(uri); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			forms = append(forms, pw, url.QueryEscape(pw), url.PathEscape(pw))
		}
	}
	return forms
}

// Redact returns uri with the password in its user info and any password
// or sslpassword query parameter replaced by xxxxx, for logs and messages.
// A string that is not a postgres:// URL is not shown at all.
func Redact(uri string) string {
	if uri == "" {
		return ""
	}
	p, err := cutURI(uri)
	if err != nil {
		return "(not a postgres URL, not shown)"
	}
	return p.redacted()
}

func (p uriParts) redacted() string {
	if user, _, hasPassword := strings.Cut(p.userinfo, ":"); hasPassword {
		p.userinfo = user + ":" + mask
	}
	params := strings.Split(p.query, "&")
	for i, kv := range params {
		if k, _, _ := strings.Cut(kv, "="); isPasswordParam(k) {
			params[i] = k + "=" + mask
		}
	}
	p.query = strings.Join(params, "&")
	return p.String()
}

func isPasswordParam(rawKey string) bool {
	k, err := url.QueryUnescape(rawKey)
	if err != nil {
		k = rawKey
	}
	return k == "password" || k == "sslpassword"
}

// scrubber removes a URI's secrets from text that may quote them, such as
// error messages from pgx or the server.
type scrubber struct {
	secrets []string
}

func newScrubber(p uriParts) scrubber {
	var s scrubber
	add := func(raw string) {
		if raw == "" {
			return
		}
		s.secrets = append(s.secrets, raw)
		if dec, err := url.PathUnescape(raw); err == nil && dec != raw && dec != "" {
			s.secrets = append(s.secrets, dec)
		}
		if dec, err := url.QueryUnescape(raw); err == nil && dec != raw && dec != "" {
			s.secrets = append(s.secrets, dec)
		}
	}
	if _, pw, ok := strings.Cut(p.userinfo, ":"); ok {
		add(pw)
	}
	if p.hasQuery {
		for _, kv := range strings.Split(p.query, "&") {
			if k, v, ok := strings.Cut(kv, "="); ok && isPasswordParam(k) {
				add(v)
			}
		}
	}
	return s
}

// uriInText finds anything that looks like a postgres URL in a message.
var uriInText = regexp.MustCompile("postgres(?:ql)?://[^\\s\"'`]*")

// scrub redacts every postgres URL in text and then every remaining copy
// of a known password, raw or percent-decoded. Replacing even short
// passwords may garble a message; a garbled message is the lesser harm.
func (s scrubber) scrub(text string) string {
	text = uriInText.ReplaceAllStringFunc(text, func(u string) string {
		if p, err := cutURI(u); err == nil {
			return p.redacted()
		}
		return "(postgres URL not shown)"
	})
	for _, secret := range s.secrets {
		text = strings.ReplaceAll(text, secret, mask)
	}
	return text
}
