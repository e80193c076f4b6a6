package apireview

import (
	"io/fs"
	"path"
	"strings"
)

// migrations reads every up.sql: migrations/<db>/<version>_<name>/up.sql
// (config v3), migrations/<version>_<name>/up.sql (v2) and the older
// migrations/<version>_<name>.up.sql files.
func (r *reader) migrations(p *Project, dir string, v3 bool) {
	entries, err := fs.ReadDir(r.fsys, dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		switch {
		case isVersioned(e.Name()) && e.IsDir():
			r.migration(p, "default", path.Join(dir, e.Name()), e.Name())
		case isVersioned(e.Name()) && strings.HasSuffix(e.Name(), ".up.sql"):
			r.migrationFile(p, "default", path.Join(dir, e.Name()), strings.TrimSuffix(e.Name(), ".up.sql"))
		case e.IsDir():
			sub, err := fs.ReadDir(r.fsys, path.Join(dir, e.Name()))
			if err != nil {
				continue
			}
			for _, m := range sub {
				if m.IsDir() && isVersioned(m.Name()) {
					r.migration(p, e.Name(), path.Join(dir, e.Name(), m.Name()), m.Name())
				}
			}
		}
		if r.over {
			return
		}
	}
}

func (r *reader) migration(p *Project, db, dir, name string) {
	r.migrationFile(p, db, path.Join(dir, "up.sql"), name)
}

func (r *reader) migrationFile(p *Project, db, file, name string) {
	r.files++
	if r.files > r.lim.MaxMigrations {
		if r.files == r.lim.MaxMigrations+1 {
			r.problem(file, 0, "refused: more than %d migrations; the rest are not read", r.lim.MaxMigrations)
		}
		return
	}
	data, ok := r.read(file, true) // a migration may have only down.sql, or up.yaml
	if !ok {
		return
	}
	p.Migrations[db+"/"+name] = Migration{Database: db, Name: name, Path: file, SQL: string(data)}
}

// isVersioned reports whether a name starts with a migration version
// (digits then an underscore).
func isVersioned(name string) bool {
	i := 0
	for i < len(name) && name[i] >= '0' && name[i] <= '9' {
		i++
	}
	return i > 0 && i < len(name) && name[i] == '_'
}
