package apireview

import (
	"io/fs"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Project is what one side of a pull request exposes, read from a Hasura
// CLI project directory.
type Project struct {
	// Missing is set when the directory holds nothing at all (a project
	// added by the pull request has no base).
	Missing bool
	// Incomplete is set when a budget ran out: the project was not read
	// and must not be compared (everything would look removed).
	Incomplete     bool
	Tables         map[string]*Table
	Functions      map[string]bool
	Actions        map[string]Action
	RemoteSchemas  map[string]RemoteSchema
	CronTriggers   map[string]CronTrigger
	InheritedRoles map[string][]string
	RestEndpoints  map[string]RestEndpoint
	AllowList      map[string]bool
	// Queries maps "collection/query name" to the query text.
	Queries    map[string]string
	Migrations map[string]Migration
	Problems   []Problem
}

// Table is one tracked table or view.
type Table struct {
	Database string
	Schema   string
	Name     string
	// File is the metadata file that holds the table's entry.
	File string
	// Config is the canonical text of the table's configuration (custom
	// names and root fields), which renames parts of the GraphQL API.
	Config        string
	Relationships map[string]Relationship
	// Permissions are keyed by role + "/" + operation.
	Permissions   map[string]Permission
	EventTriggers map[string]EventTrigger
}

// Relationship is an object, array or remote relationship.
type Relationship struct {
	Kind string // object, array, remote
	Def  string // canonical definition
}

// Permission is one role's rule for one operation on a table.
type Permission struct {
	Role string
	Op   string // select, insert, update, delete
	// AllColumns is set by columns: '*'.
	AllColumns bool
	Columns    []string // sorted
	// Filter (select, update, delete), Check (insert, update) and Set
	// (column presets) are canonical JSON, empty when absent: text takes
	// less memory, and a rule is decoded again only when it changed.
	Filter    string
	Check     string
	Set       string
	Aggregate bool
	Limit     *int64
	// Other is the canonical text of the remaining fields (computed
	// fields, root fields, backend_only, validate input).
	Other string
}

// Action is a custom GraphQL action.
type Action struct {
	Handler string
	Kind    string
	Type    string
	Roles   []string
}

// RemoteSchema is a remote GraphQL schema joined into the API.
type RemoteSchema struct {
	URL   string
	Roles []string
	Def   string
}

// EventTrigger is a table's event trigger.
type EventTrigger struct {
	Webhook string
	Def     string
}

// CronTrigger is a scheduled trigger.
type CronTrigger struct {
	Webhook  string
	Schedule string
	Def      string
}

// RestEndpoint is a REST route over a stored query.
type RestEndpoint struct {
	URL     string
	Methods []string
	Query   string // collection/query name
}

// Migration is one up.sql file.
type Migration struct {
	Database string
	Name     string // <version>_<name>
	Path     string
	SQL      string
}

// load reads the Hasura project at the root of fsys, parsing each table
// file once across calls that share shared. What it cannot read is listed
// in Problems.
func load(fsys fs.FS, lim Limits, shared map[string]*Table) *Project {
	p := &Project{
		Tables:         map[string]*Table{},
		Functions:      map[string]bool{},
		Actions:        map[string]Action{},
		RemoteSchemas:  map[string]RemoteSchema{},
		CronTriggers:   map[string]CronTrigger{},
		InheritedRoles: map[string][]string{},
		RestEndpoints:  map[string]RestEndpoint{},
		AllowList:      map[string]bool{},
		Queries:        map[string]string{},
		Migrations:     map[string]Migration{},
	}
	if entries, err := fs.ReadDir(fsys, "."); err != nil || len(entries) == 0 {
		p.Missing = true
		return p
	}
	r := &reader{fsys: fsys, lim: lim.orDefault(), shared: shared}
	version, metaDir, migDir := r.config()
	r.root = metaDir
	if !r.over {
		if _, err := fs.Stat(fsys, path.Join(metaDir, "databases/databases.yaml")); version >= 3 || err == nil {
			r.metadataV3(p, metaDir)
		} else {
			r.metadataV2(p, metaDir)
		}
		r.common(p, metaDir)
	}
	if !r.over {
		r.migrations(p, migDir)
	}
	if r.over {
		// Half a project would diff as mass removal: keep nothing.
		return &Project{Problems: r.problems, Incomplete: true}
	}
	p.Problems = r.problems
	return p
}

// config reads config.yaml: its version and where metadata and migrations
// live. Both directories must stay inside the project.
func (r *reader) config() (version int, metaDir, migDir string) {
	version, metaDir, migDir = 1, "metadata", "migrations"
	r.root = "."
	s, ok := r.parse("config.yaml", nil, false)
	if !ok {
		return version, metaDir, migDir
	}
	if v := r.get(s, "version"); v.found() {
		if n, isInt := scalar(v.n).(int64); isInt {
			version = int(n)
		}
	}
	for key, dst := range map[string]*string{"metadata_directory": &metaDir, "migrations_directory": &migDir} {
		v := r.str(s, key)
		if v == "" {
			continue
		}
		clean := path.Clean(v)
		if path.IsAbs(clean) || !within(".", clean) || clean == "." {
			r.problem("config.yaml", 0, "refused: %s %s leaves the project directory", key, quoteName(v))
			continue
		}
		*dst = clean
	}
	return version, metaDir, migDir
}

func (r *reader) metadataV3(p *Project, dir string) {
	if dbs, ok := r.parse(path.Join(dir, "databases/databases.yaml"), nil, false); ok {
		for _, db := range r.items(dbs, "databases") {
			name := r.str(db, "name")
			if name == "" {
				r.problem(db.file, db.n.Line, "a database without a name")
				continue
			}
			r.tables(p, name, r.get(db, "tables"))
			r.functions(p, name, r.get(db, "functions"))
		}
	}
}

func (r *reader) metadataV2(p *Project, dir string) {
	if tables, ok := r.parse(path.Join(dir, "tables.yaml"), nil, true); ok {
		r.tables(p, "default", tables)
	}
	if fns, ok := r.parse(path.Join(dir, "functions.yaml"), nil, true); ok {
		r.functions(p, "default", fns)
	}
}

// common reads the files v2 and v3 share.
func (r *reader) common(p *Project, dir string) {
	for _, f := range []struct {
		name string
		read func(*Project, src)
	}{
		{"actions.yaml", r.actions},
		{"remote_schemas.yaml", r.remoteSchemas},
		{"cron_triggers.yaml", r.cronTriggers},
		{"inherited_roles.yaml", r.inheritedRoles},
		{"rest_endpoints.yaml", r.restEndpoints},
		{"allow_list.yaml", r.allowList},
		{"query_collections.yaml", r.queryCollections},
	} {
		if s, ok := r.parse(path.Join(dir, f.name), nil, true); ok {
			f.read(p, s)
		}
	}
}

func (r *reader) inheritedRoles(p *Project, s src) {
	for _, it := range r.items(s, "inherited roles") {
		name := r.str(it, "role_name")
		if name == "" {
			continue
		}
		var set []string
		for _, role := range r.items(r.get(it, "role_set"), "role_set") {
			if role.n.Kind == yaml.ScalarNode {
				set = append(set, role.n.Value)
			}
		}
		slices.Sort(set)
		p.InheritedRoles[name] = slices.Compact(set)
	}
}

func (r *reader) restEndpoints(p *Project, s src) {
	r.named(s, "REST endpoints", func(name string, it src) {
		e := RestEndpoint{URL: r.str(it, "url")}
		for _, m := range r.items(r.get(it, "methods"), "methods") {
			e.Methods = append(e.Methods, strings.ToUpper(m.n.Value))
		}
		slices.Sort(e.Methods)
		if q := r.get(r.get(it, "definition"), "query"); q.found() {
			e.Query = r.str(q, "collection_name") + "/" + r.str(q, "query_name")
		}
		p.RestEndpoints[name] = e
	})
}

func (r *reader) allowList(p *Project, s src) {
	for _, it := range r.items(s, "allow list") {
		if c := r.str(it, "collection"); c != "" {
			p.AllowList[c] = true
		}
	}
}

func (r *reader) queryCollections(p *Project, s src) {
	for _, coll := range r.items(s, "query collections") {
		cname := r.str(coll, "name")
		def := r.get(coll, "definition")
		if cname == "" {
			continue
		}
		for _, q := range r.items(r.get(def, "queries"), "queries") {
			p.Queries[cname+"/"+r.str(q, "name")] = compactSpace(r.str(q, "query"))
		}
	}
}

func compactSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// LoadPair reads the base and head of a review, parsing once a table file
// that has the same bytes at the same path on both sides.
func LoadPair(base, head fs.FS, lim Limits) (*Project, *Project) {
	shared := map[string]*Table{}
	return load(base, lim, shared), load(head, lim, shared)
}
