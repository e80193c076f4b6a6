package store

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hasura-preview/hasura-preview/internal/pgdb"
)

// Backend names the database engine behind a Store.
type Backend string

// The two supported backends.
const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// DefaultSQLitePath is the database file used when Open gets an empty URL.
const DefaultSQLitePath = "hasura-preview.db"

// sqlitePragmas are required, not tuning: one writer at a time (_txlock=immediate
// takes the write lock at BEGIN so a transaction never fails half-way on
// upgrade), WAL so readers in other processes (backups, the sqlite3 shell) do
// not block us, and a busy timeout for those other processes.
var sqlitePragmas = [][2]string{
	{"_pragma", "busy_timeout(5000)"},
	{"_pragma", "journal_mode(WAL)"},
	{"_txlock", "immediate"},
}

// target is a parsed database URL.
type target struct {
	backend Backend
	dsn     string // what the driver gets (may hold a password)
	display string // what logs and errors show
	secret  string // the password, to scrub from driver errors; "" when none
	path    string // SQLite: the database file on disk; "" for memory or unknown
}

// parseTarget maps the user's URL onto a backend. A plain path, sqlite:// or
// file: is SQLite; postgres:// or postgresql:// is PostgreSQL.
func parseTarget(raw string) (target, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		raw = DefaultSQLitePath
	}
	lower := strings.ToLower(raw)
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return parsePostgres(raw)
	case strings.HasPrefix(lower, "sqlite://"):
		return sqliteTarget(raw[len("sqlite://"):])
	case strings.HasPrefix(lower, "sqlite:"):
		return sqliteTarget(raw[len("sqlite:"):])
	case strings.HasPrefix(lower, "file:"):
		return sqliteFileURI(raw)
	case strings.Contains(raw, "://"):
		// Never echo the URL: it may carry a password for an engine we do not know.
		return target{}, errors.New("unsupported database URL scheme (want a SQLite path, sqlite://, file: or postgres://)")
	default:
		return sqliteTarget(raw)
	}
}

func sqliteTarget(path string) (target, error) {
	if path == "" {
		return target{}, errors.New("empty SQLite path")
	}
	if strings.ContainsAny(path, "?#") {
		return target{}, errors.New("SQLite path must not contain '?' or '#' (use a file: URI for options)")
	}
	return sqliteFileURI(path)
}

// diskPath is the file a SQLite path or file: URI path names, or "" for an
// in-memory database.
func diskPath(p string) string {
	p = strings.TrimPrefix(p, "file:")
	if rest, ok := strings.CutPrefix(p, "//"); ok {
		// file://host/path: the host part is empty or localhost.
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			p = rest[i:]
		} else {
			p = ""
		}
	}
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	if p == "" || p == ":memory:" {
		return ""
	}
	return filepath.Clean(p)
}

// sqliteFileURI keeps the caller's URI options, if any, and adds the
// required pragmas unless the caller already set that pragma or key.
func sqliteFileURI(raw string) (target, error) {
	path, query, _ := strings.Cut(raw, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return target{}, fmt.Errorf("parsing SQLite URI options: %w", err)
	}
	for _, p := range sqlitePragmas {
		set := q.Has(p[0])
		if p[0] == "_pragma" {
			name, _, _ := strings.Cut(p[1], "(")
			set = slices.ContainsFunc(q["_pragma"], func(v string) bool {
				return strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), name)
			})
		}
		if !set {
			q.Add(p[0], p[1])
		}
	}
	t := target{backend: SQLite, dsn: path + "?" + q.Encode(), display: "sqlite:" + strings.TrimPrefix(path, "file:")}
	if q.Get("mode") != "memory" {
		t.path = diskPath(path)
	}
	return t, nil
}

func parsePostgres(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole URL, password included: drop it.
		return target{}, errors.New("invalid PostgreSQL URL")
	}
	t := target{backend: Postgres, dsn: raw}
	if pw, ok := u.User.Password(); ok {
		t.secret = pw
	}
	// The same rendering as the service config's DATABASE_URL.
	t.display = pgdb.Redact(raw)
	return t, nil
}

// scrubbed is a driver error whose text has had the password removed. It
// keeps the original for errors.Is (context errors, pgconn codes) but prints
// only the scrubbed text.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// scrub removes secret, in its raw and URL-escaped spellings, from err's text.
func scrub(err error, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	msg := err.Error()
	clean := msg
	for _, s := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret), url.UserPassword("", secret).String()} {
		if s = strings.TrimPrefix(s, ":"); s != "" {
			clean = strings.ReplaceAll(clean, s, "xxxxx")
		}
	}
	if clean == msg {
		return err
	}
	return &scrubbed{msg: clean, err: err}
}
