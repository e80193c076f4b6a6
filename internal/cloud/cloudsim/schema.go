package cloudsim

import (
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// The simulator carries its own small schema rather than a gqlparser
// schema: Hasura words its validation errors its own way, and clients
// written against the real API match on those words.

type typeKind int

const (
	kindScalar typeKind = iota
	kindEnum
	kindInput
	kindObject
)

type typeDef struct {
	name   string
	kind   typeKind
	enum   []string
	inputs []argDef             // input object fields, in declaration order
	fields map[string]*fieldDef // object fields
}

type argDef struct {
	name string
	typ  *ast.Type
}

// resolver computes a field from its parent value. Lists are []any; object
// values are handed to the resolvers of the selected sub-fields.
type resolver func(x *exec, parent any, args *ordMap) (any, *gqlError)

type fieldDef struct {
	name    string
	args    []argDef
	typ     *ast.Type
	resolve resolver
}

func (t *typeDef) input(name string) *argDef {
	for i := range t.inputs {
		if t.inputs[i].name == name {
			return &t.inputs[i]
		}
	}
	return nil
}

// gqlType turns "[tasks_order_by!]" into an *ast.Type.
func gqlType(s string) *ast.Type {
	nonNull := strings.HasSuffix(s, "!")
	s = strings.TrimSuffix(s, "!")
	var t *ast.Type
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		t = &ast.Type{Elem: gqlType(s[1 : len(s)-1])}
	} else {
		t = &ast.Type{NamedType: s}
	}
	t.NonNull = nonNull
	return t
}

// args builds argument lists from "name: Type" pairs.
func args(pairs ...string) []argDef {
	out := make([]argDef, 0, len(pairs))
	for _, p := range pairs {
		name, typ, _ := strings.Cut(p, ":")
		out = append(out, argDef{name: strings.TrimSpace(name), typ: gqlType(strings.TrimSpace(typ))})
	}
	return out
}

var schemaTypes = map[string]*typeDef{}

func addType(t *typeDef) *typeDef {
	schemaTypes[t.name] = t
	return t
}

func object(name string, fields ...*fieldDef) *typeDef {
	t := &typeDef{name: name, kind: kindObject, fields: map[string]*fieldDef{}}
	for _, f := range fields {
		t.fields[f.name] = f
	}
	return addType(t)
}

func field(name, typ string, r resolver, a ...string) *fieldDef {
	return &fieldDef{name: name, typ: gqlType(typ), resolve: r, args: args(a...)}
}

// listArgs are the Hasura arguments of a relationship or table list.
func listArgs(table string) []string {
	return []string{
		"where: " + table + "_bool_exp",
		"order_by: [" + table + "_order_by!]",
		"limit: Int",
		"offset: Int",
	}
}

var queryRoot, mutationRoot *typeDef

func init() {
	for _, s := range []string{"String", "Int", "Float", "Boolean", "ID", "uuid", "jsonb", "timestamptz"} {
		addType(&typeDef{name: s, kind: kindScalar})
	}
	addType(&typeDef{name: "order_by", kind: kindEnum, enum: []string{
		"asc", "asc_nulls_first", "asc_nulls_last", "desc", "desc_nulls_first", "desc_nulls_last",
	}})
	for _, scalar := range []string{"String", "uuid", "timestamptz"} {
		addType(&typeDef{name: scalar + "_comparison_exp", kind: kindInput, inputs: args(
			"_eq: "+scalar, "_neq: "+scalar, "_gt: "+scalar, "_gte: "+scalar, "_lt: "+scalar, "_lte: "+scalar,
			"_in: ["+scalar+"!]", "_nin: ["+scalar+"!]", "_is_null: Boolean",
		)})
	}
	// The columns are those a personal access token is shown to read, not
	// the admin schema of Hasura's console code: the official action
	// (v0.1.10) reads jobs { id status tasks }, tasks { id name cloud region
	// task_events } ordered by updated_at, task events { id event_type
	// public_event_data error github_detail } ordered by created_at and
	// updated_at, and projects { id name endpoint tenant { id } }.
	// jobs.created_at, jobs.updated_at and tasks.created_at exist for the
	// admin but no PAT client reads them; here, as for a PAT's role, asking
	// for one is "field '…' not found in type: '…'", so a client that
	// starts relying on one fails a test rather than a user.
	tables := map[string][]string{
		"projects":   {"id: uuid", "name: String", "endpoint: String"},
		"tasks":      {"id: uuid", "name: String", "cloud: String", "region: String", "updated_at: timestamptz"},
		"task_event": {"id: uuid", "event_type: String", "error: String", "github_detail: String", "created_at: timestamptz", "updated_at: timestamptz"},
	}
	for table, cols := range tables {
		boolExp := []string{"_and: [" + table + "_bool_exp!]", "_or: [" + table + "_bool_exp!]", "_not: " + table + "_bool_exp"}
		var orderBy []string
		for _, c := range cols {
			name, scalar, _ := strings.Cut(c, ": ")
			boolExp = append(boolExp, name+": "+scalar+"_comparison_exp")
			orderBy = append(orderBy, name+": order_by")
		}
		addType(&typeDef{name: table + "_bool_exp", kind: kindInput, inputs: args(boolExp...)})
		addType(&typeDef{name: table + "_order_by", kind: kindInput, inputs: args(orderBy...)})
	}
	// Type names as Hasura's console code generated from the Cloud schema
	// declares them (hasura/graphql-engine, ControlPlane/
	// generatedGraphQLTypes.ts): UpdateEnvsObject (createGitHubPreviewApp,
	// createTenant) and UpdateEnvObject (updateTenantEnv) are two types with
	// the same fields, and a variable declared with the wrong one is
	// refused; ProjectOptions.plan and the payload itself are nullable.
	addType(&typeDef{name: "UpdateEnvsObject", kind: kindInput, inputs: args("key: String!", "value: String!")})
	addType(&typeDef{name: "UpdateEnvObject", kind: kindInput, inputs: args("key: String!", "value: String!")})
	addType(&typeDef{name: "GithubRepoDetails", kind: kindInput, inputs: args(
		"owner: String!", "repo: String!", "branch: String!", "directory: String!")})
	addType(&typeDef{name: "ProjectOptions", kind: kindInput, inputs: args(
		"name: String!", "cloud: String!", "region: String!", "plan: String", "envVars: [UpdateEnvsObject]")})
	addType(&typeDef{name: "CreateGithubPreviewAppInputPayload", kind: kindInput, inputs: args(
		"githubPersonalAccessToken: String!", "githubRepoDetails: GithubRepoDetails!", "projectOptions: ProjectOptions!")})

	object("task_event",
		field("id", "uuid!", eventField(func(e *event) any { return e.id })),
		field("event_type", "String!", eventField(func(e *event) any { return e.typ })),
		field("public_event_data", "jsonb", eventField(func(e *event) any {
			if e.public == nil {
				return nil
			}
			return e.public
		})),
		field("error", "String", eventField(func(e *event) any { return optString(e.err) })),
		field("github_detail", "String", eventField(func(e *event) any { return optString(e.detail) })),
		field("created_at", "timestamptz!", eventField(func(e *event) any { return e.at })),
		field("updated_at", "timestamptz!", eventField(func(e *event) any { return e.at })),
	)
	object("tasks",
		field("id", "uuid!", taskField(func(t *taskView) any { return t.t.id })),
		field("name", "String!", taskField(func(t *taskView) any { return t.t.name })),
		field("cloud", "String", taskField(func(t *taskView) any { return t.t.cloud })),
		field("region", "String", taskField(func(t *taskView) any { return t.t.region })),
		field("updated_at", "timestamptz!", taskField(func(t *taskView) any { return t.updatedAt() })),
		field("task_events", "[task_event!]!", resolveTaskEvents, listArgs("task_event")...),
	)
	object("jobs",
		field("id", "uuid!", jobField(func(j *jobView) any { return j.j.id })),
		field("status", "String!", jobField(func(j *jobView) any { return j.status() })),
		field("tasks", "[tasks!]!", resolveTasks, listArgs("tasks")...),
	)
	object("projects",
		field("id", "uuid!", projectField(func(p *project) any { return p.id })),
		field("name", "String!", projectField(func(p *project) any { return p.name })),
		field("endpoint", "String!", projectField(func(p *project) any { return p.endpoint })),
		field("tenant", "tenant", projectField(func(p *project) any { return (*tenantView)(p) })),
	)
	object("tenant",
		field("id", "uuid!", tenantField(func(p *project) any { return p.tenantID })),
		field("slug", "String!", tenantField(func(p *project) any { return p.name })),
		field("project", "projects", tenantField(func(p *project) any { return p })),
	)
	// envVars nests the variables under "environment", as Hasura's console
	// reads them (envVars.environment).
	object("TenantEnv",
		field("hash", "String!", projectField(func(p *project) any { return envHash(p.env) })),
		field("envVars", "jsonb!", projectField(func(p *project) any {
			out := newOrdMap()
			out.set("environment", sortedObject(p.env))
			return out
		})),
	)
	object("PreviewAppResponse",
		field("githubPreviewAppJobID", "uuid!", func(_ *exec, parent any, _ *ordMap) (any, *gqlError) {
			return parent.(*jobView).j.id, nil
		}),
		field("github_preview_app_job", "jobs", func(_ *exec, parent any, _ *ordMap) (any, *gqlError) { return parent, nil }),
	)
	object("CreateTenantResponse",
		field("id", "uuid!", projectField(func(p *project) any { return p.tenantID })),
		field("name", "String!", projectField(func(p *project) any { return p.name })),
		field("tenant", "tenant", projectField(func(p *project) any { return (*tenantView)(p) })),
	)
	object("TenantDeleteResponse",
		field("status", "String!", func(_ *exec, parent any, _ *ordMap) (any, *gqlError) { return parent, nil }),
	)

	queryRoot = object("query_root",
		field("jobs_by_pk", "jobs", resolveJobByPk, "id: uuid!"),
		field("projects", "[projects!]!", resolveProjects, listArgs("projects")...),
		field("projects_by_pk", "projects", resolveProjectByPk, "id: uuid!"),
		field("tenant_by_pk", "tenant", resolveTenantByPk, "id: uuid!"),
		field("getTenantEnv", "TenantEnv", resolveGetTenantEnv, "tenantId: uuid!"),
	)
	mutationRoot = object("mutation_root",
		field("createGitHubPreviewApp", "PreviewAppResponse", resolveCreatePreviewApp,
			"payload: CreateGithubPreviewAppInputPayload"),
		field("createTenant", "CreateTenantResponse", resolveCreateTenant,
			"cloud: String!", "region: String!", "plan: String", "name: String", "envs: [UpdateEnvsObject]"),
		field("deleteTenant", "TenantDeleteResponse", resolveDeleteTenant, "tenantId: uuid!"),
		field("updateTenantEnv", "TenantEnv", resolveUpdateTenantEnv,
			"tenantId: uuid!", "currentHash: String!", "envs: [UpdateEnvObject!]!"),
		field("deleteTenantEnv", "TenantEnv", resolveDeleteTenantEnv,
			"tenantId: uuid!", "currentHash: String!", "deleteEnvs: [String!]!"),
	)
}

// tenantView is a project seen through its tenant, which is one to one with
// it in the simulator.
type tenantView project

func optString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func eventField(f func(*event) any) resolver {
	return func(_ *exec, parent any, _ *ordMap) (any, *gqlError) { return f(parent.(*event)), nil }
}

func taskField(f func(*taskView) any) resolver {
	return func(_ *exec, parent any, _ *ordMap) (any, *gqlError) { return f(parent.(*taskView)), nil }
}

func jobField(f func(*jobView) any) resolver {
	return func(_ *exec, parent any, _ *ordMap) (any, *gqlError) { return f(parent.(*jobView)), nil }
}

func projectField(f func(*project) any) resolver {
	return func(_ *exec, parent any, _ *ordMap) (any, *gqlError) { return f(parent.(*project)), nil }
}

func tenantField(f func(*project) any) resolver {
	return func(_ *exec, parent any, _ *ordMap) (any, *gqlError) { return f((*project)(parent.(*tenantView))), nil }
}
