package cloudsim

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// readyApp creates name and runs the clock past its creation.
func readyApp(e *simEnv, name string) ProjectInfo {
	e.t.Helper()
	e.create(name, map[string]string{"A": "1"})
	e.clock.Advance(2 * time.Second)
	info, ok := e.sim.Project(name)
	if !ok {
		e.t.Fatalf("project %s missing after creation", name)
	}
	return info
}

func TestAnswerKeysFollowSelectionOrder(t *testing.T) {
	e := newSim(t, nil)
	p := readyApp(e, "order-a")
	status, body := e.raw(`query q($n: String!) {
  z: projects(where: {name: {_eq: $n}}) { endpoint __typename name id tenant { slug id } }
  __typename
  a: projects_by_pk(id: "`+p.ID+`") { name }
}`, map[string]any{"n": "order-a"})
	want := fmt.Sprintf(`{"data":{"z":[{"endpoint":"https://order-a.hasura.app","__typename":"projects","name":"order-a","id":%q,"tenant":{"slug":"order-a","id":%q}}],"__typename":"query_root","a":{"name":"order-a"}}}`,
		p.ID, p.TenantID)
	if status != 200 || string(body) != want {
		t.Errorf("got %d %s\nwant %s", status, body, want)
	}
}

func TestFragmentsAndDirectives(t *testing.T) {
	e := newSim(t, nil)
	p := readyApp(e, "frag-a")
	query := `query q($id: uuid!, $withTenant: Boolean!) {
  projects_by_pk(id: $id) { ...base ... on projects { endpoint } tenant @include(if: $withTenant) { id } id @skip(if: true) }
}
fragment base on projects { name id }`
	for _, with := range []bool{true, false} {
		status, body := e.raw(query, map[string]any{"id": p.ID, "withTenant": with})
		want := fmt.Sprintf(`{"data":{"projects_by_pk":{"name":"frag-a","id":%q,"endpoint":"https://frag-a.hasura.app"`, p.ID)
		if with {
			want += fmt.Sprintf(`,"tenant":{"id":%q}`, p.TenantID)
		}
		want += "}}}"
		if status != 200 || string(body) != want {
			t.Errorf("withTenant=%v: got %s\nwant %s", with, body, want)
		}
	}
}

func TestOperationName(t *testing.T) {
	e := newSim(t, nil)
	doc := `query one { a: __typename } query two { b: __typename }`
	got := e.gqlFail(doc, nil)
	if !strings.Contains(got.Message, "exactly one operation") {
		t.Errorf("no operationName: %+v", got)
	}
	status, _, body := e.post("pat "+testPAT, gqlBody{Query: doc, OperationName: "two"})
	if status != 200 || string(body) != `{"data":{"b":"query_root"}}` {
		t.Errorf("operationName two: %d %s", status, body)
	}
	status, _, body = e.post("pat "+testPAT, gqlBody{Query: doc, OperationName: "three"})
	if got := decodeErr(t, status, body); !strings.Contains(got.Message, `no such operation found in the document: "three"`) {
		t.Errorf("unknown operationName: %+v", got)
	}
}

func TestMultipleRootFieldsAndAliases(t *testing.T) {
	e := newSim(t, nil)
	readyApp(e, "multi-a")
	readyApp(e, "multi-b")
	data := e.gql(`{
  a: projects(where: {name: {_eq: "multi-a"}}) { name }
  b: projects(where: {name: {_eq: "multi-b"}}) { name }
  all: projects(order_by: {name: desc}) { name }
}`, nil)
	if str(t, data, "a", 0, "name") != "multi-a" || str(t, data, "b", 0, "name") != "multi-b" ||
		str(t, data, "all", 0, "name") != "multi-b" || len(list(t, data, "all")) != 2 {
		t.Errorf("data = %v", data)
	}
	if got := e.sim.Count("projects"); got != 3 {
		t.Errorf("Count(projects) = %d, want 3 (one per root field)", got)
	}
}

func TestValidationErrors(t *testing.T) {
	e := newSim(t, nil)
	const uuid = "6f1c7e0a-5a4b-4c7d-9e2f-0123456789ab"
	cases := []struct {
		name, query  string
		vars         map[string]any
		code, substr string
	}{
		{"missing required variable", `query q($jobId: uuid!) { jobs_by_pk(id: $jobId) { id } }`, nil,
			"validation-failed", `expecting a value for non-nullable variable: "jobId"`},
		{"ID where uuid expected", `query q($jobId: ID!) { jobs_by_pk(id: $jobId) { id } }`, map[string]any{"jobId": uuid},
			"validation-failed", `variable 'jobId' is declared as 'ID!', but used where 'uuid!' is expected`},
		{"nullable where required", `query q($jobId: uuid) { jobs_by_pk(id: $jobId) { id } }`, map[string]any{"jobId": uuid},
			"validation-failed", `declared as 'uuid', but used where 'uuid!' is expected`},
		{"String where uuid expected", `mutation m($t: String!) { deleteTenant(tenantId: $t) { status } }`, map[string]any{"t": uuid},
			"validation-failed", `declared as 'String!', but used where 'uuid!' is expected`},
		{"wrong env list type", `mutation m($t: uuid!, $h: String!, $e: [String]!) { updateTenantEnv(tenantId: $t, currentHash: $h, envs: $e) { hash } }`,
			map[string]any{"t": uuid, "h": "x", "e": []string{"a"}}, "validation-failed", `declared as '[String]!', but used where '[UpdateEnvObject!]!'`},
		{"invalid uuid value", `query q($jobId: uuid!) { jobs_by_pk(id: $jobId) { id } }`, map[string]any{"jobId": "not-a-uuid"},
			"data-exception", `invalid input syntax for type uuid: "not-a-uuid"`},
		{"invalid uuid literal", `{ jobs_by_pk(id: "123") { id } }`, nil, "data-exception", `invalid input syntax for type uuid: "123"`},
		{"number for String", `query q($n: String!) { projects(where: {name: {_eq: $n}}) { id } }`, map[string]any{"n": 5},
			"validation-failed", "expected a string for type 'String', but found a number"},
		{"unexpected variable", `query q { projects { id } }`, map[string]any{"extra": 1},
			"validation-failed", "unexpected variables in variableValues: extra"},
		{"unknown field", `{ projects { id color } }`, nil, "validation-failed", "field 'color' not found in type: 'projects'"},
		{"unknown root field", `{ users { id } }`, nil, "validation-failed", "field 'users' not found in type: 'query_root'"},
		{"mutation field in query", `{ deleteTenant(tenantId: "` + uuid + `") { status } }`, nil,
			"validation-failed", "field 'deleteTenant' not found in type: 'query_root'"},
		{"unknown argument", `{ projects(first: 1) { id } }`, nil, "validation-failed", "'projects' has no argument named 'first'"},
		{"missing argument", `{ jobs_by_pk { id } }`, nil, "validation-failed", "missing required field 'id'"},
		{"missing selection", `{ projects }`, nil, "validation-failed", "missing selection set"},
		{"selection on scalar", `{ projects { id { x } } }`, nil, "validation-failed", "unexpected subselection set"},
		{"bad order_by enum", `{ projects(order_by: {name: up}) { id } }`, nil, "validation-failed", "expected one of the values"},
		{"unknown order_by column", `{ projects(order_by: {color: asc}) { id } }`, nil, "validation-failed", "field 'color' not found in type: 'projects_order_by'"},
		{"syntax error", `{ projects { id }`, nil, "validation-failed", "not a valid graphql query"},
		{"fragment cycle", `{ projects { ...a } } fragment a on projects { ...b } fragment b on projects { tenant { project { ...a } } }`, nil,
			"validation-failed", "form a cycle"},
		{"payload missing field", `mutation { createGitHubPreviewApp(payload: {githubPersonalAccessToken: "x"}) { githubPreviewAppJobID } }`, nil,
			"validation-failed", "missing required field 'githubRepoDetails'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := e.gqlFail(c.query, c.vars)
			if got.Extensions.Code != c.code || !strings.Contains(got.Message, c.substr) {
				t.Errorf("got %+v, want code %s and %q", got, c.code, c.substr)
			}
		})
	}
	if n := len(e.sim.Counts()); n != 0 {
		t.Errorf("invalid documents executed: %v", e.sim.Counts())
	}
}

func TestEnvelopeErrors(t *testing.T) {
	e := newSim(t, nil)
	for _, body := range []string{`not json`, `[]`, `{"variables":{}}`, `{"query":1}`, `{"query":"{__typename}","variables":[1]}`, `{"query":"{__typename}"} x`} {
		status, _, out := e.post("pat "+testPAT, body)
		if got := decodeErr(t, status, out); got.Extensions.Code != "parse-failed" {
			t.Errorf("%s: %+v", body, got)
		}
	}
}

// tasksQuery returns the task names of a job under the given arguments.
func taskNames(e *simEnv, jobID, argsText string) []string {
	e.t.Helper()
	data := e.gql(`query q($id: uuid!) { jobs_by_pk(id: $id) { tasks`+argsText+` { name } } }`, map[string]any{"id": jobID})
	var names []string
	for _, task := range list(e.t, data, "jobs_by_pk", "tasks") {
		names = append(names, str(e.t, task, "name"))
	}
	return names
}

func TestListArgumentsOnTasksAndEvents(t *testing.T) {
	e := newSim(t, nil)
	e.create("list-a", nil)
	e.clock.Advance(2*time.Second + 7*500*time.Millisecond)
	info, _ := e.sim.Project("list-a")
	id := info.LastDeploymentJobID
	all := strings.Join(deploymentTasks, ",")
	reversed := make([]string, len(deploymentTasks))
	for i, n := range deploymentTasks {
		reversed[len(reversed)-1-i] = n
	}
	cases := []struct{ args, want string }{
		{"", all},
		{"(order_by: {updated_at: asc})", all},
		{"(order_by: {updated_at: desc})", strings.Join(reversed, ",")},
		{"(order_by: [{name: asc}])", "apply-metadata,apply-migration,check-healthz,gh-validation,parse-metadata,parse-migration,reload-metadata"},
		{"(order_by: {updated_at: desc}, limit: 2)", "check-healthz,reload-metadata"},
		{"(limit: 2, offset: 1)", "parse-metadata,parse-migration"},
		{"(offset: 10)", ""},
		{`(where: {name: {_in: ["check-healthz", "gh-validation"]}})`, "gh-validation,check-healthz"},
		{`(where: {_not: {name: {_eq: "gh-validation"}}}, limit: 1)`, "parse-metadata"},
	}
	for _, c := range cases {
		if got := strings.Join(taskNames(e, id, c.args), ","); got != c.want {
			t.Errorf("tasks%s = %s, want %s", c.args, got, c.want)
		}
	}

	data := e.gql(`query q($id: uuid!, $ob: [task_event_order_by!]) { jobs_by_pk(id: $id) {
  tasks(limit: 1) {
    latest: task_events(order_by: {updated_at: desc}, limit: 1) { event_type }
    oldest: task_events(order_by: $ob, limit: 1) { event_type }
    ok: task_events(where: {event_type: {_eq: "success"}}) { event_type }
    none: task_events(where: {error: {_is_null: false}}) { event_type }
  } } }`, map[string]any{"id": id, "ob": map[string]any{"created_at": "asc"}})
	task := path(t, data, "jobs_by_pk", "tasks", 0)
	if str(t, task, "latest", 0, "event_type") != "success" || str(t, task, "oldest", 0, "event_type") != "created" ||
		len(list(t, task, "ok")) != 1 || len(list(t, task, "none")) != 0 {
		t.Errorf("task events = %v", task)
	}
}

func TestOrderByKeysApplyInWrittenOrder(t *testing.T) {
	e := newSim(t, nil)
	for _, n := range []string{"ord-b", "ord-a", "ord-c"} {
		e.gql(`mutation m($n: String) { createTenant(cloud: "aws", region: "us-east-2", name: $n) { id } }`, map[string]any{"n": n})
	}
	e.gql(`mutation { createTenant(cloud: "aws", region: "us-east-2", name: "ord-0") { id } }`, nil)
	names := func(args string, vars map[string]any) string {
		data := e.gql(`query q($ob: [projects_order_by!]) { projects`+args+` { name } }`, vars)
		var out []string
		for _, p := range list(t, data, "projects") {
			out = append(out, str(t, p, "name"))
		}
		return strings.Join(out, ",")
	}
	cases := []struct {
		args string
		vars map[string]any
		want string
	}{
		{"", nil, "ord-b,ord-a,ord-c,ord-0"},
		{"(order_by: {endpoint: desc, name: asc})", nil, "ord-c,ord-b,ord-a,ord-0"},
		{"(order_by: {name: asc, endpoint: desc})", nil, "ord-0,ord-a,ord-b,ord-c"},
		{"(order_by: [{endpoint: asc}, {name: desc}])", nil, "ord-0,ord-a,ord-b,ord-c"},
		// Key order from a JSON variable is kept too.
		{"(order_by: $ob)", map[string]any{"ob": []any{map[string]any{"endpoint": "desc"}, map[string]any{"name": "asc"}}}, "ord-c,ord-b,ord-a,ord-0"},
		{`(where: {_or: [{name: {_eq: "ord-c"}}, {name: {_eq: "ord-0"}}]}, order_by: {name: asc})`, nil, "ord-0,ord-c"},
		// Hasura ignores a null comparison: it matches every row.
		{`(where: {name: {_eq: null}}, limit: 1)`, nil, "ord-b"},
	}
	for _, c := range cases {
		if got := names(c.args, c.vars); got != c.want {
			t.Errorf("projects%s = %s, want %s", c.args, got, c.want)
		}
	}
}

// A personal access token sees fewer columns than the admin schema in
// Hasura's console code: jobs.created_at, jobs.updated_at, tasks.created_at
// and the projects' timestamps are read by no PAT client. Selecting or
// ordering by one is refused the way Hasura refuses an unknown field, so a
// client that starts to rely on one fails here rather than for a user.
func TestPATRoleColumns(t *testing.T) {
	e := newSim(t, nil)
	e.create("cols-a", nil)
	e.clock.Advance(time.Minute)
	info, _ := e.sim.Project("cols-a")
	for _, c := range []struct{ query, path, msg string }{
		{`query q($id: uuid!) { jobs_by_pk(id: $id) { id created_at } }`,
			"$.selectionSet.jobs_by_pk.selectionSet.created_at", "field 'created_at' not found in type: 'jobs'"},
		{`query q($id: uuid!) { jobs_by_pk(id: $id) { updated_at } }`,
			"$.selectionSet.jobs_by_pk.selectionSet.updated_at", "field 'updated_at' not found in type: 'jobs'"},
		{`query q($id: uuid!) { jobs_by_pk(id: $id) { tasks { created_at } } }`,
			"$.selectionSet.jobs_by_pk.selectionSet.tasks.selectionSet.created_at", "field 'created_at' not found in type: 'tasks'"},
		{`query q($id: uuid!) { jobs_by_pk(id: $id) { tasks(order_by: {created_at: asc}) { id } } }`,
			"$.selectionSet.jobs_by_pk.selectionSet.tasks.args.order_by.created_at", "field 'created_at' not found in type: 'tasks_order_by'"},
		{`query q($id: uuid!) { projects(where: {id: {_neq: $id}}) { created_at } }`,
			"$.selectionSet.projects.selectionSet.created_at", "field 'created_at' not found in type: 'projects'"},
	} {
		status, _, body := e.post("pat "+testPAT, gqlBody{Query: c.query, Variables: map[string]any{"id": info.LastDeploymentJobID}})
		got := decodeErr(t, status, body)
		if got.Message != c.msg || got.Extensions.Code != "validation-failed" || got.Extensions.Path != c.path {
			t.Errorf("%s: %+v", c.query, got)
		}
	}
	// What the PAT clients read is served: tasks by updated_at, events by
	// created_at and updated_at.
	data := e.gql(`query q($id: uuid!) { jobs_by_pk(id: $id) { id status tasks(order_by: {updated_at: asc}) {
  id name cloud region updated_at task_events(order_by: {created_at: asc}) { id event_type public_event_data error github_detail created_at updated_at } } } }`,
		map[string]any{"id": info.LastDeploymentJobID})
	if str(t, data, "jobs_by_pk", "status") != "success" || len(list(t, data, "jobs_by_pk", "tasks")) != 7 {
		t.Errorf("PAT job query = %v", data)
	}
}
