package apireview

import (
	"io/fs"
	"path"
	"strings"
)

// migrations reads every up.sql: migrations/<db>/<version>_<name>/up.sql
// (config v3), migrations/<version>_<name>/up.sql (v2) and the older
// migrations/<version>_<name>.up.sql files.
func (r *reader) migrations(p *Project, dir string) {
	entries, err := fs.ReadDir(r.fsys, dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case isVersioned(name) && e.IsDir():
			r.migration(p, "default", path.Join(dir, name, "up.sql"), name)
		case isVersioned(name) && strings.HasSuffix(name, ".up.sql"):
			r.migration(p, "default", path.Join(dir, name), strings.TrimSuffix(name, ".up.sql"))
		case e.IsDir():
			sub, err := fs.ReadDir(r.fsys, path.Join(dir, name))
			if err != nil {
				continue
			}
			for _, m := range sub {
				if m.IsDir() && isVersioned(m.Name()) {
					r.migration(p, name, path.Join(dir, name, m.Name(), "up.sql"), m.Name())
				}
			}
		}
		if r.over {
			return
		}
	}
}

func (r *reader) migration(p *Project, db, file, name string) {
	r.files++
	if r.files > r.lim.MaxMigrations {
		if r.files == r.lim.MaxMigrations+1 {
			r.problem(file, 0, "refused: more than %d migrations; the rest are not read", r.lim.MaxMigrations)
		}
		return
	}
	// A migration may have only down.sql, or up.yaml.
	if data, ok := r.read(file, true); ok {
		p.Migrations[db+"/"+name] = Migration{Database: db, Name: name, Path: file, SQL: string(data)}
	}
}

// isVersioned reports whether a name starts with a migration version
// (digits then an underscore).
func isVersioned(name string) bool {
	rest := strings.TrimLeft(name, "0123456789")
	return len(rest) < len(name) && strings.HasPrefix(rest, "_")
}
