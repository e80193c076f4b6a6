package preview

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DefaultNameTemplate, the action's default as the official action's README
// suggests, is stable across pushes and unique per repository.
const DefaultNameTemplate = "{repo}-pr-{pr}"

// ServiceNameTemplate is the webhook service's default: the Cloud works by
// name, and {hash} (of owner/repo) keeps evil/shop#7 from rebuilding or
// deleting acme/shop#7's app, and acme/web.shop's from acme/web-shop's.
const ServiceNameTemplate = "{repo}-{hash}-pr-{pr}"

// repoHashLen hex digits of the repository hash: 2^24 names, and the store
// refuses a second live PR with a name already in use.
const repoHashLen = 6

// MaxNameLen is the longest app name: the name becomes the DNS label of
// <name>.hasura.app, and a DNS label holds at most 63 bytes.
const MaxNameLen = 63

// hashLen is the hash suffix of a truncated name.
const hashLen = 7

// NameVars are the values a name template can refer to.
type NameVars struct {
	Owner  string
	Repo   string
	PR     int
	Branch string
}

// RepoHash is {hash}: the first hex digits of SHA-256 of "owner/repo",
// lowercased (GitHub names are case-insensitive).
func RepoHash(owner, repo string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(owner + "/" + repo)))
	return hex.EncodeToString(sum[:])[:repoHashLen]
}

// AppName expands tmpl ({owner}, {repo}, {hash}, {pr}, {branch}; empty means
// DefaultNameTemplate) and normalizes it into a valid Cloud app name. A name
// longer than MaxNameLen is cut and given a hash of the whole, so that long
// branch names sharing a prefix still get different apps.
func AppName(tmpl string, v NameVars) (string, error) {
	if tmpl == "" {
		tmpl = DefaultNameTemplate
	}
	expanded, err := expand(tmpl, v)
	if err != nil {
		return "", err
	}
	name := normalize(expanded)
	if name == "" {
		return "", fmt.Errorf("app name template %q gives an empty name: it needs at least one letter or digit", tmpl)
	}
	return shorten(name), nil
}

func expand(tmpl string, v NameVars) (string, error) {
	vals := map[string]string{"owner": v.Owner, "repo": v.Repo, "hash": RepoHash(v.Owner, v.Repo),
		"pr": strconv.Itoa(v.PR), "branch": v.Branch}
	var b strings.Builder
	for rest := tmpl; ; {
		text, after, found := strings.Cut(rest, "{")
		b.WriteString(text)
		if !found {
			return b.String(), nil
		}
		key, after, closed := strings.Cut(after, "}")
		if !closed {
			return "", fmt.Errorf("app name template %q: '{' without a closing '}'", tmpl)
		}
		val, known := vals[key]
		if !known {
			return "", fmt.Errorf("app name template %q: unknown placeholder {%s} (known: {owner}, {repo}, {hash}, {pr}, {branch})", tmpl, key)
		}
		b.WriteString(val)
		rest = after
	}
}

// normalize keeps ASCII letters (lowercased) and digits and turns every run
// of anything else, non-ASCII letters too (DNS), into one hyphen.
func normalize(s string) string {
	return strings.ToLower(strings.Join(strings.FieldsFunc(s, notAlnum), "-"))
}

// notAlnum reports whether r is anything but an ASCII letter or digit.
func notAlnum(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
}

// shorten cuts a normalized name to MaxNameLen bytes, ending in '-' and a
// hash of the full name, never two hyphens in a row.
func shorten(name string) string {
	if len(name) <= MaxNameLen {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	suffix := hex.EncodeToString(sum[:])[:hashLen]
	return strings.TrimRight(name[:MaxNameLen-hashLen-1], "-") + "-" + suffix
}

// ValidName checks the Cloud's rule for app names, a DNS label: 1 to 63
// lowercase ASCII letters, digits and hyphens, no hyphen at either end.
func ValidName(s string) error {
	switch {
	case s == "":
		return errors.New("app name is empty")
	case len(s) > MaxNameLen:
		return fmt.Errorf("app name is %d characters long; at most %d fit in a DNS label", len(s), MaxNameLen)
	case s[0] == '-' || s[len(s)-1] == '-':
		return fmt.Errorf("app name %q starts or ends with a hyphen", s)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') }); i >= 0 {
		return fmt.Errorf("app name %q contains %q: only lowercase letters, digits and hyphens are allowed", s, rune(s[i]))
	}
	return nil
}

// legacyDefaultName is the official action's default for its name input, a
// copy-paste slip from its tier input; nobody means it as a name.
const legacyDefaultName = "cloud_free"

// IsUnsetName reports whether a configured name means "use the naming rule":
// empty, or the official action's accidental default "cloud_free".
func IsUnsetName(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || s == legacyDefaultName
}
