package preview

import (
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"

	"github.com/hasura-preview/hasura-preview/internal/pgdb"
)

// EnvVar is one environment variable of a preview app, shaped like the
// Cloud API's UpdateEnvsObject (the engine converts it to cloud.EnvVar).
type EnvVar struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Sensitive reports whether the value should be masked in logs: by its key
// (LooksSecret) or because it is a URL with a password in it.
func (v EnvVar) Sensitive() bool { return LooksSecret(v.Key) || HasCredentials(v.Value) }

// String shows the key and, unless Sensitive, the value, so that an EnvVar
// printed by accident (%v in an error) does not leak a secret.
func (v EnvVar) String() string { return v.Key + "=" + v.shown() }

// LogValue masks sensitive values for log/slog.
func (v EnvVar) LogValue() slog.Value {
	return slog.GroupValue(slog.String("key", v.Key), slog.String("value", v.shown()))
}

func (v EnvVar) shown() string {
	if v.Sensitive() {
		return "***"
	}
	return v.Value
}

// ParseEnv reads the hasuraEnv input: one KEY=value per line, or a
// multi-line value as GitHub's file commands write it (KEY<<DELIM, lines,
// DELIM). Unlike the official action it keeps values byte for byte after the
// first '=' (a ';' in a JSON JWT secret survives) and reports malformed lines
// instead of dropping them. Blank and '#' lines are skipped. A repeated key
// keeps its first position and its last value, with a warning. Errors name
// the line and at most the key, never a value.
func ParseEnv(s string) ([]EnvVar, []string, error) {
	lines := strings.Split(s, "\n")
	var (
		vars     []EnvVar
		warnings []string
		index    = map[string]int{} // key → position in vars
		firstAt  = map[string]int{} // key → line number, for the warning
	)
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		line := strings.TrimSpace(strings.TrimSuffix(lines[i], "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// A "<<" before any '=' opens a multi-line value.
		sep, op := strings.IndexByte(line, '='), "="
		if h := strings.Index(line, "<<"); h >= 0 && (sep < 0 || h < sep) {
			sep, op = h, "<<"
		}
		if sep < 0 {
			// The line is not shown: a value pasted without its key is
			// still a secret.
			return nil, nil, fmt.Errorf("hasuraEnv line %d: expected KEY=value but found no '='", lineNo)
		}
		key, value := strings.TrimSpace(line[:sep]), line[sep+len(op):]
		if err := checkKey(key, lineNo); err != nil {
			return nil, nil, err
		}
		if op == "<<" {
			delim := strings.TrimSpace(value)
			if delim == "" {
				return nil, nil, fmt.Errorf("hasuraEnv line %d: %s<< needs a delimiter after '<<'", lineNo, key)
			}
			body, end, ok := readHeredoc(lines, i+1, delim)
			if !ok {
				return nil, nil, fmt.Errorf("hasuraEnv line %d: the multi-line value of %s is not terminated: no line %q follows", lineNo, key, delim)
			}
			value, i = body, end
		}
		if at, seen := index[key]; seen {
			vars[at].Value = value
			warnings = append(warnings, fmt.Sprintf("hasuraEnv line %d sets %s again (first set on line %d); the later value wins", lineNo, key, firstAt[key]))
			continue
		}
		index[key], firstAt[key] = len(vars), lineNo
		vars = append(vars, EnvVar{Key: key, Value: value})
	}
	return vars, warnings, nil
}

// readHeredoc collects lines from start up to the delimiter line, which may
// be indented; value lines lose only a trailing '\r'.
func readHeredoc(lines []string, start int, delim string) (value string, end int, ok bool) {
	var body []string
	for j := start; j < len(lines); j++ {
		l := strings.TrimSuffix(lines[j], "\r")
		if strings.TrimSpace(l) == delim {
			return strings.Join(body, "\n"), j, true
		}
		body = append(body, l)
	}
	return "", 0, false
}

func checkKey(key string, lineNo int) error {
	if key == "" {
		return fmt.Errorf("hasuraEnv line %d: the key before '=' is empty", lineNo)
	}
	if !ValidEnvKey(key) {
		if !showableKey(key) {
			// Probably a value pasted without its key, such as a URL whose
			// query holds the '=': it may be a secret, so it is not shown.
			return fmt.Errorf("hasuraEnv line %d: the text before '=' is not a variable name (it is not shown as it may hold a secret)", lineNo)
		}
		return fmt.Errorf("hasuraEnv line %d: key %q is not a valid variable name (letters, digits and '_', not starting with a digit)", lineNo, key)
	}
	return nil
}

// showableKey accepts the near-misses worth quoting in an error (a space,
// a hyphen, a leading digit) and rejects anything that could be a secret.
func showableKey(key string) bool {
	return len(key) <= 64 && !strings.ContainsFunc(key, func(r rune) bool {
		return notAlnum(r) && !strings.ContainsRune("_-. ", r)
	})
}

// ValidEnvKey reports whether key matches [A-Za-z_][A-Za-z0-9_]*, pgdb's
// rule for the names in postgresDBConfig.
func ValidEnvKey(key string) bool { return pgdb.ValidEnvName(key) }

// secretWords are key fragments that mark a value to mask. Over-masking a
// harmless value costs little; leaking a secret into a public log does not.
var secretWords = []string{
	"SECRET", "TOKEN", "PASSWORD", "PASSWD", "PASS", "PWD", "KEY", "JWT",
	"ADMIN", "CREDENTIAL", "PRIVATE", "AUTH", "COOKIE", "SESSION", "SALT",
	"SIGNATURE", "CERT", "DSN", "CONNECTION_STRING", "CONN_STR",
	"DATABASE_URL", "DB_URL", "DATABASE_URI", "DB_URI",
}

// LooksSecret reports whether a variable named key should be masked in logs
// (HASURA_GRAPHQL_ADMIN_SECRET, HASURA_GRAPHQL_JWT_SECRET, PG_DATABASE_URL…).
func LooksSecret(key string) bool {
	k := strings.ToUpper(key)
	return slices.ContainsFunc(secretWords, func(w string) bool { return strings.Contains(k, w) })
}

// HasCredentials reports whether value is a URL carrying a password in its
// user info (scheme://user:password@host) or in a password query parameter.
func HasCredentials(value string) bool {
	if !strings.Contains(value, "://") {
		return false
	}
	u, err := url.Parse(strings.TrimSpace(value))
	if err != nil {
		// Unparseable but URL-like: mask it if it looks like it has
		// user info, rather than risk printing a password.
		rest := value[strings.Index(value, "://")+3:]
		at := strings.IndexByte(rest, '@')
		return at > 0 && strings.Contains(rest[:at], ":")
	}
	if _, ok := u.User.Password(); ok {
		return true
	}
	q := u.Query()
	return q.Get("password") != "" || q.Get("sslpassword") != ""
}

// MergeEnv overlays override on base into a new list: a key seen again takes
// the later value at its first position; new keys follow in order.
func MergeEnv(base, override []EnvVar) []EnvVar {
	out := make([]EnvVar, 0, len(base)+len(override))
	index := make(map[string]int, len(base)+len(override))
	for _, list := range [][]EnvVar{base, override} {
		for _, v := range list {
			if at, ok := index[v.Key]; ok {
				out[at].Value = v.Value
				continue
			}
			index[v.Key] = len(out)
			out = append(out, v)
		}
	}
	return out
}
