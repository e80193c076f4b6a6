package apireview

// Report is what a pull request changes in the API, JSON-serialisable
// (it is the action's apiChanges output).
type Report struct {
	// Summary is one line: "2 tables added · 1 permission widened ⚠" or
	// "no API change".
	Summary string `json:"summary"`
	Changed bool   `json:"changed"`
	// Warnings counts the items marked ⚠.
	Warnings int `json:"warnings"`
	// Truncated says the lists were left out (see Brief).
	Truncated      bool               `json:"truncated,omitempty"`
	Problems       []Problem          `json:"problems,omitempty"`
	Tables         []Change           `json:"tables,omitempty"`
	Functions      []Change           `json:"functions,omitempty"`
	Relationships  []Change           `json:"relationships,omitempty"`
	Permissions    []PermissionChange `json:"permissions,omitempty"`
	InheritedRoles []Change           `json:"inheritedRoles,omitempty"`
	Actions        []Change           `json:"actions,omitempty"`
	RemoteSchemas  []Change           `json:"remoteSchemas,omitempty"`
	EventTriggers  []Change           `json:"eventTriggers,omitempty"`
	CronTriggers   []Change           `json:"cronTriggers,omitempty"`
	RestEndpoints  []Change           `json:"restEndpoints,omitempty"`
	AllowList      []Change           `json:"allowList,omitempty"`
	Queries        []Change           `json:"queries,omitempty"`
	Migrations     []MigrationChange  `json:"migrations,omitempty"`
}

// The kinds of Change.
const (
	Added   = "added"
	Removed = "removed"
	Edited  = "changed"
)

// Change is one metadata object added, removed or changed.
type Change struct {
	Change  string   `json:"change"`
	Name    string   `json:"name"`
	Details []Detail `json:"details,omitempty"`
	// Warn says why the change needs a look; empty when it does not.
	Warn string `json:"warn,omitempty"`
}

// Detail is one field's value before and after.
type Detail struct {
	Field  string `json:"field"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// PermissionChange is one role's rule for one operation on one table.
type PermissionChange struct {
	Table  string `json:"table"`
	Role   string `json:"role"`
	Op     string `json:"operation"`
	Change string `json:"change"`
	Effect Effect `json:"effect,omitempty"`
	// Unauthenticated is set for the role requests without credentials get.
	Unauthenticated bool `json:"unauthenticated,omitempty"`
	// InheritedBy lists the inherited roles that gain what this role gains.
	InheritedBy    []string `json:"inheritedBy,omitempty"`
	ColumnsGranted []string `json:"columnsGranted,omitempty"`
	ColumnsRevoked []string `json:"columnsRevoked,omitempty"`
	Details        []Detail `json:"details,omitempty"`
	// SessionVariables are those the rule now reads (X-Hasura-User-Id, …).
	SessionVariables []string `json:"sessionVariables,omitempty"`
	Warn             string   `json:"warn,omitempty"`
}

// MigrationChange is a migration new in the pull request, or one it edits
// (which a database that already ran it will not see again).
type MigrationChange struct {
	Database    string        `json:"database"`
	Name        string        `json:"name"`
	Path        string        `json:"path"`
	Change      string        `json:"change"`
	Destructive []Destructive `json:"destructive,omitempty"`
}

// Unavailable is the report when a side could not be read at all (the
// archive could not be fetched): one problem line, nothing compared.
func Unavailable(reason string) *Report {
	return &Report{
		Summary:  "not compared: the project could not be read ⚠",
		Warnings: 1,
		Problems: []Problem{{Message: reason}},
	}
}

// Brief is the report without its lists, for an output that must stay small.
func (r *Report) Brief() *Report {
	return &Report{Summary: r.Summary, Changed: r.Changed, Warnings: r.Warnings, Truncated: true,
		Problems: r.Problems[:min(len(r.Problems), 20)]}
}
