package pgdb

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// MaxIdentLen is PostgreSQL's identifier limit (NAMEDATALEN-1 bytes).
// Postgres silently truncates longer names, which could make two previews
// share a database, so names are shortened here, with a hash.
const MaxIdentLen = 63

const hashLen = 7

// DatabaseName is the official action's rule for an app's database: every
// character other than an ASCII letter or digit becomes '_' (hello-world-pr-2
// → hello_world_pr_2). Case is kept, as the official action keeps it. A
// result longer than MaxIdentLen bytes is cut and ends in '_' and a hash of
// the whole name, so that long names stay distinct.
func DatabaseName(app string) string {
	var b strings.Builder
	b.Grow(len(app))
	for _, r := range app {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return fitIdent(b.String())
}

// EnvVarDatabaseName is the database for one environment variable when
// every variable gets its own: <DatabaseName(app)>_<variable in lowercase>.
func EnvVarDatabaseName(app, envVar string) string {
	return fitIdent(DatabaseName(app) + "_" + strings.ToLower(envVar))
}

// fitIdent hashes the full name, not the already-cut one, so that two names
// differing only past the cut still differ.
func fitIdent(name string) string {
	if len(name) <= MaxIdentLen {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return name[:MaxIdentLen-hashLen-1] + "_" + hex.EncodeToString(sum[:])[:hashLen]
}
