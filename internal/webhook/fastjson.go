package webhook

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// A pull_request payload is ~27 KB of which the intake reads a few hundred
// bytes. json.Unmarshal scans all of it twice (a validity pass, then the
// decode, which still has to tokenise every field it skips) and was the
// largest cost of a delivery once group commit had shrunk the database's:
// 130 µs of ~330 µs of CPU. fastPullRequest validates once and walks the
// payload with gjson (already in the build, through River), skipping what
// it does not need without tokenising it: about 45 µs.
//
// It must fill pullRequestEvent exactly as json.Unmarshal would, so it only
// handles the shapes GitHub sends and reports !ok for anything else (a key
// given twice or in another case, escaped keys, a field of another type, a
// number that is not a plain integer, very deep nesting...); the caller then
// uses json.Unmarshal, which also words the errors. FuzzFastPullRequest
// checks the equivalence.

// fastNesting bounds how deeply a payload may nest for the fast path:
// gjson's validator recurses without a limit, encoding/json stops at 10000.
const fastNesting = 10000

var (
	openObject = []byte{'{'}
	openArray  = []byte{'['}
)

// fastPullRequest decodes a pull_request payload as json.Unmarshal would,
// or reports !ok (the caller then uses json.Unmarshal).
func fastPullRequest(body []byte) (ev pullRequestEvent, ok bool) {
	// Counting brackets (those in strings too) bounds the nesting from above.
	if bytes.Count(body, openObject)+bytes.Count(body, openArray) > fastNesting ||
		!utf8.Valid(body) || !gjson.ValidBytes(body) {
		return ev, false
	}
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return ev, false
	}
	f := fastDecoder{ok: true}
	f.object(root, eventKeys, func(k int, v gjson.Result) {
		switch k {
		case 0:
			f.str(v, &ev.Action)
		case 1:
			ev.PullRequest = nil
			pr := new(pullRequest)
			if f.pullRequest(v, pr) {
				ev.PullRequest = pr
			}
		case 2:
			ev.Repository = f.repository(v)
		case 3:
			ev.Installation = nil
			var id installationRef
			if f.object(v, idKey, func(_ int, v gjson.Result) { f.integer(v, &id.ID) }) {
				ev.Installation = &id
			}
		}
	})
	return ev, f.ok
}

// The keys read at each level, in the order the switches number them.
var (
	eventKeys = []string{"action", "pull_request", "repository", "installation"}
	prKeys    = []string{"number", "state", "title", "draft", "merged", "updated_at", "user", "labels", "head", "base"}
	refKeys   = []string{"ref", "sha", "repo"}
	baseKeys  = []string{"ref", "repo"}
	repoKeys  = []string{"name", "full_name", "owner"}
	userKeys  = []string{"login", "type"}
	idKey     = []string{"id"}
	nameKey   = []string{"name"}
)

// fastDecoder collects whether every field was decoded exactly.
type fastDecoder struct{ ok bool }

// object calls set for each of v's members named in names (by index). It
// reports whether v is an object; null is not one but fine (the field stays
// as it is, as with encoding/json); anything else fails. It fails on a name
// given twice (encoding/json would merge or overwrite), a key with escapes,
// or a key equal to a name only case-insensitively (encoding/json would
// take it).
func (f *fastDecoder) object(v gjson.Result, names []string, set func(k int, v gjson.Result)) bool {
	if v.Type == gjson.Null {
		return false
	}
	if !v.IsObject() {
		f.ok = false
		return false
	}
	var seen uint64
	v.ForEach(func(key, val gjson.Result) bool {
		k := key.Str
		if strings.IndexByte(key.Raw, '\\') >= 0 {
			f.ok = false
			return false
		}
		ascii := isASCII(k)
		for i, n := range names {
			if k == n {
				if seen&(1<<i) != 0 {
					f.ok = false
					return false
				}
				seen |= 1 << i
				set(i, val)
				return f.ok
			}
			// Non-ASCII folding can change a key's length (K, the Kelvin sign).
			if (!ascii || len(k) == len(n)) && strings.EqualFold(k, n) {
				f.ok = false
				return false
			}
		}
		return true
	})
	return f.ok
}

func (f *fastDecoder) pullRequest(v gjson.Result, pr *pullRequest) bool {
	return f.object(v, prKeys, func(k int, v gjson.Result) {
		switch k {
		case 0:
			var n int64
			if f.integer(v, &n) {
				pr.Number = int(n)
			}
		case 1:
			f.str(v, &pr.State)
		case 2:
			f.str(v, &pr.Title)
		case 3:
			f.boolean(v, &pr.Draft)
		case 4:
			f.boolean(v, &pr.Merged)
		case 5:
			// What encoding/json calls, null included.
			if pr.UpdatedAt.UnmarshalJSON([]byte(v.Raw)) != nil {
				f.ok = false
			}
		case 6:
			f.user(v, &pr.User)
		case 7:
			f.labels(v, &pr.Labels)
		case 8:
			f.object(v, refKeys, func(k int, v gjson.Result) {
				switch k {
				case 0:
					f.str(v, &pr.Head.Ref)
				case 1:
					f.str(v, &pr.Head.SHA)
				case 2:
					pr.Head.Repo = f.repository(v)
				}
			})
		case 9:
			f.object(v, baseKeys, func(k int, v gjson.Result) {
				if k == 0 {
					f.str(v, &pr.Base.Ref)
				} else {
					pr.Base.Repo = f.repository(v)
				}
			})
		}
	})
}

func (f *fastDecoder) repository(v gjson.Result) *repository {
	var r repository
	ok := f.object(v, repoKeys, func(k int, v gjson.Result) {
		switch k {
		case 0:
			f.str(v, &r.Name)
		case 1:
			f.str(v, &r.FullName)
		case 2:
			f.user(v, &r.Owner)
		}
	})
	if !ok {
		return nil
	}
	return &r
}

func (f *fastDecoder) user(v gjson.Result, u *user) {
	f.object(v, userKeys, func(k int, v gjson.Result) {
		if k == 0 {
			f.str(v, &u.Login)
		} else {
			f.str(v, &u.Type)
		}
	})
}

func (f *fastDecoder) labels(v gjson.Result, dst *[]label) {
	switch {
	case v.Type == gjson.Null:
		*dst = nil
	case v.IsArray():
		ls := []label{}
		v.ForEach(func(_, e gjson.Result) bool {
			var l label
			// A null element would be a zero label to encoding/json: rare
			// enough to leave to it.
			if !f.object(e, nameKey, func(_ int, v gjson.Result) { f.str(v, &l.Name) }) {
				f.ok = false
			}
			ls = append(ls, l)
			return f.ok
		})
		*dst = ls
	default:
		f.ok = false
	}
}

func (f *fastDecoder) str(v gjson.Result, dst *string) {
	switch v.Type {
	case gjson.Null:
	case gjson.String:
		if strings.IndexByte(v.Raw, '\\') < 0 {
			*dst = v.Raw[1 : len(v.Raw)-1]
			return
		}
		// Escapes (and lone surrogates) are encoding/json's to interpret.
		if json.Unmarshal([]byte(v.Raw), dst) != nil {
			f.ok = false
		}
	default:
		f.ok = false
	}
}

// integer sets *dst from a plain JSON integer and reports whether it did;
// null leaves it, anything else (1.0, 1e3, out of range) fails.
func (f *fastDecoder) integer(v gjson.Result, dst *int64) bool {
	switch v.Type {
	case gjson.Null:
		return false
	case gjson.Number:
		n, err := strconv.ParseInt(v.Raw, 10, strconv.IntSize)
		if err != nil {
			f.ok = false
			return false
		}
		*dst = n
		return true
	}
	f.ok = false
	return false
}

func (f *fastDecoder) boolean(v gjson.Result, dst *bool) {
	switch v.Type {
	case gjson.Null:
	case gjson.True:
		*dst = true
	case gjson.False:
		*dst = false
	default:
		f.ok = false
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
