package preview

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DefaultNameTemplate names a preview after its repository and pull request
// number, which stays stable across pushes and is unique per repository.
// It is the action's default, as the official action's README suggests.
const DefaultNameTemplate = "{repo}-pr-{pr}"

// ServiceNameTemplate is the webhook service's default. One service serves
// many accounts, and every create and delete in the Cloud is by name: without
// the owner, evil/shop#7 would rebuild and then delete acme/shop#7's app, and
// normalisation folds acme/web.shop and acme/web-shop together. {hash}, a
// stable hash of owner/repo, keeps every repository's names apart.
const ServiceNameTemplate = "{repo}-{hash}-pr-{pr}"

// repoHashLen hex digits of the repository hash: 2^24 names, and the store
// refuses a second live PR with a name already in use.
const repoHashLen = 6

// MaxNameLen is the longest app name: the name becomes the DNS label of
// <name>.hasura.app, and a DNS label holds at most 63 bytes.
const MaxNameLen = 63

// hashLen is long enough that two truncated names in one account will not
// collide by accident, short enough to leave most of the readable prefix.
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
// DefaultNameTemplate) and normalizes the result into a valid Cloud app
// name: lowercase ASCII letters and digits, every other run of characters
// one hyphen, no hyphen at either end. A name longer than MaxNameLen is cut
// and given a hash of the whole normalized name, so two long branch names
// that share a prefix still get different apps.
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
// of anything else into one hyphen. Non-ASCII letters become hyphens too:
// the Cloud and DNS accept only ASCII here.
func normalize(s string) string {
	return strings.ToLower(strings.Join(strings.FieldsFunc(s, notAlnum), "-"))
}

// notAlnum reports whether r is anything but an ASCII letter or digit.
func notAlnum(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
}

// shorten cuts a normalized name to MaxNameLen bytes, ending in '-' and a
// hash of the full name. The cut is trimmed of trailing hyphens so the
// result never holds two in a row.
func shorten(name string) string {
	if len(name) <= MaxNameLen {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	suffix := hex.EncodeToString(sum[:])[:hashLen]
	return strings.TrimRight(name[:MaxNameLen-hashLen-1], "-") + "-" + suffix
}

// ValidName checks a name against the Cloud's rule for app names: 1 to 63
// lowercase ASCII letters, digits and hyphens, not starting or ending with a
// hyphen (it is used as a DNS label).
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

// IsUnsetName reports whether a configured name means "derive the name from
// the naming rule": empty, or the official action's accidental default
// "cloud_free", so workflows written for that action keep working.
func IsUnsetName(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || s == legacyDefaultName
}
