package cloud_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
)

func TestWrongPATIsUnauthorizedAndNotRetried(t *testing.T) {
	e := newEnv(t, nil)
	info := e.built("shop-pr-20")
	wrong := e.newClient("hcpat-wrong-but-also-secret")
	ctx := context.Background()
	calls := map[string]func() error{
		cloud.OpCreatePreviewApp: func() error {
			_, err := wrong.CreateGitHubPreviewApp(ctx, preview("shop-pr-20"))
			return err
		},
		cloud.OpJob:          func() error { _, err := wrong.Job(ctx, info.LastCreationJobID); return err },
		cloud.OpProjects:     func() error { _, err := wrong.ProjectsByName(ctx, "shop-pr-20"); return err },
		cloud.OpProject:      func() error { _, err := wrong.Project(ctx, info.ID); return err },
		cloud.OpDeleteTenant: func() error { return wrong.DeleteTenant(ctx, info.TenantID) },
		cloud.OpGetTenantEnv: func() error { _, err := wrong.TenantEnv(ctx, info.TenantID); return err },
		cloud.OpUpdateTenantEnv: func() error {
			_, err := wrong.UpdateTenantEnv(ctx, info.TenantID, "h", []cloud.EnvVar{{Key: "A", Value: "1"}})
			return err
		},
		cloud.OpDeleteTenantEnv: func() error {
			_, err := wrong.DeleteTenantEnv(ctx, info.TenantID, "h", []string{"A"})
			return err
		},
	}
	for op, call := range calls {
		t.Run(op, func(t *testing.T) {
			requests, executed := e.sim.Requests(op), e.sim.Count(op)
			ce := checkClass(t, call(), cloud.ErrUnauthorized)
			// The real Cloud answers a wrong token with HTTP 200 and the
			// anonymous role's empty schema; the user reads that the
			// token is the problem, with the Cloud's own words.
			if ce.Op != op || ce.Status != http.StatusOK || ce.Code != "validation-failed" ||
				!strings.Contains(ce.Error(), "access token is wrong") ||
				!strings.Contains(ce.Error(), `field "`+op+`" not found in type:`) {
				t.Errorf("error = %+v", ce)
			}
			if n := e.sim.Requests(op) - requests; n != 1 {
				t.Errorf("%d requests for %s, want 1", n, op)
			}
			if n := e.sim.Count(op) - executed; n != 0 {
				t.Errorf("%s executed %d times with a wrong token", op, n)
			}
		})
	}
	if w := e.sleeps.all(); len(w) != 0 {
		t.Errorf("waits %v: an unauthorized call must not be retried", w)
	}
	if _, ok := e.sim.Project("shop-pr-20"); !ok {
		t.Error("a call with a wrong token deleted the project")
	}
}

func TestQuotaExceeded(t *testing.T) {
	e := newEnv(t, func(o *cloudsim.Options) { o.MonthlyQuota = 1 })
	ctx := context.Background()
	if _, err := e.client.CreateGitHubPreviewApp(ctx, preview("shop-pr-21")); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.CreateGitHubPreviewApp(ctx, preview("shop-pr-22"))
	if ce := checkClass(t, err, cloud.ErrQuotaExceeded); !strings.Contains(ce.Message, "quota") {
		t.Errorf("message = %q", ce.Message)
	}
	if n := e.sim.Requests(cloud.OpCreatePreviewApp); n != 2 {
		t.Errorf("%d requests: a quota error must not be retried", n)
	}
}

func TestInvalidInput(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	for _, name := range []string{"Shop_PR_23", "-shop", strings.Repeat("a", 64), ""} {
		_, err := e.client.CreateGitHubPreviewApp(ctx, preview(name))
		if ce := checkClass(t, err, cloud.ErrInvalidInput); ce.Code != "bad-request" {
			t.Errorf("name %q: error %+v", name, ce)
		}
	}
	in := preview("shop-pr-23")
	in.Cloud = "azure"
	_, err := e.client.CreateGitHubPreviewApp(ctx, in)
	checkClass(t, err, cloud.ErrInvalidInput)
	if n := e.sim.QuotaUsed(); n != 0 {
		t.Errorf("refused creations used %d of the quota", n)
	}
}

// Without a valid token the Cloud serves the anonymous role, whose schema
// has no fields: "not found in type: 'query_root'" means unauthorized.
func TestAnonymousRoleMessageIsUnauthorized(t *testing.T) {
	for _, root := range []string{"query_root", "mutation_root"} {
		url := answer(t, http.StatusOK, nil, `{"errors":[{"extensions":{"path":"$.selectionSet.projects",`+
			`"code":"validation-failed"},"message":"field 'projects' not found in type: '`+root+`'"}]}`)
		_, err := firstProject(clientFor(t, url), context.Background(), "x")
		if ce := checkClass(t, err, cloud.ErrUnauthorized); ce.Code != "validation-failed" {
			t.Errorf("%s: error %+v", root, ce)
		}
	}
}

func TestClassification(t *testing.T) {
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	gqlErr := func(code, msg string) string {
		return `{"errors":[{"extensions":{"path":"$","code":"` + code + `"},"message":"` + msg + `"}]}`
	}
	cases := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   error
	}{
		{"401 json", 401, jsonCT, gqlErr("access-denied", "Authentication hook unauthorized this request"), cloud.ErrUnauthorized},
		// A proxy in front of the API may refuse with a page of its own:
		// still a refused token, and retrying will not change that.
		{"401 html", 401, nil, "<html><body>Unauthorized</body></html>", cloud.ErrUnauthorized},
		{"403 html", 403, nil, "<html><body>Forbidden</body></html>", cloud.ErrUnauthorized},
		{"invalid jwt", 200, jsonCT, gqlErr("invalid-jwt", "Could not verify JWT"), cloud.ErrUnauthorized},
		{"invalid headers", 200, jsonCT, gqlErr("invalid-headers", "missing Authorization"), cloud.ErrUnauthorized},
		{"not-found code", 200, jsonCT, gqlErr("not-found", "tenant not found"), cloud.ErrNotFound},
		{"does not exist", 200, jsonCT, gqlErr("unexpected", "project does not exist"), cloud.ErrNotFound},
		{"quota", 200, jsonCT, gqlErr("unexpected", "monthly preview app quota exceeded"), cloud.ErrQuotaExceeded},
		{"limit reached", 200, jsonCT, gqlErr("unexpected", "project limit reached for this plan"), cloud.ErrQuotaExceeded},
		{"hash", 200, jsonCT, gqlErr("conflict", "hash mismatch: read it again"), cloud.ErrHashConflict},
		{"parse failed", 200, jsonCT, gqlErr("parse-failed", "not a valid graphql query"), cloud.ErrInvalidInput},
		{"data exception", 200, jsonCT, gqlErr("data-exception", `invalid input syntax for type uuid: \"x\"`), cloud.ErrInvalidInput},
		// A field the schema lacks is our query's fault, not a missing
		// object: the engine must not wait for it to appear.
		{"unknown field", 200, jsonCT, gqlErr("validation-failed", "field 'created_at' not found in type: 'jobs'"), cloud.ErrInvalidInput},
		{"other", 200, jsonCT, gqlErr("unexpected", "something broke"), cloud.ErrAPI},
		{"wrong path", 404, jsonCT, `{"path":"$","error":"resource does not exist","code":"not-found"}`, cloud.ErrAPI},
		{"bad shape", 200, jsonCT, `{"data":{"projects":"many"}}`, cloud.ErrAPI},
		{"500 json", 500, jsonCT, gqlErr("unexpected", "an unexpected error occurred"), cloud.ErrTransient},
		{"502 empty", 502, nil, "", cloud.ErrTransient},
		{"200 empty", 200, nil, "", cloud.ErrTransient},
		{"200 html", 200, nil, "<!DOCTYPE html><p>please wait a few moments</p>", cloud.ErrTransient},
		{"429", 429, http.Header{"Retry-After": {"7"}}, gqlErr("too-many-requests", "slow down"), cloud.ErrTransient},
		{"null data", 200, jsonCT, `{"data":null}`, cloud.ErrTransient},
		// First runs (action#91): the "please wait" text as a JSON error
		// string, in each shape it could take; a rerun works, so all are
		// transient.
		{"warming up, graphql error", 200, jsonCT, gqlErr("unexpected",
			"If you have just created this project please wait a few moments before refreshing this page."), cloud.ErrTransient},
		{"warming up, error object", 200, jsonCT,
			`{"error":"If you have just created this project please wait a few moments before refreshing this page."}`, cloud.ErrTransient},
		{"warming up, bare string", 200, jsonCT,
			`"If you have just created this project please wait a few moments before refreshing this page."`, cloud.ErrTransient},
		// The Cloud's backend failure, answered with HTTP 200.
		{"GenericServerError", 200, jsonCT, `{"errors":[{"extensions":{"code":"GenericServerError","id":"8b1e"},` +
			`"message":"there was an internal error while serving your request"}]}`, cloud.ErrTransient},
		{"rate limit text", 200, jsonCT, gqlErr("unexpected", "rate limit exceeded, retry later"), cloud.ErrTransient},
		// "exceeded" alone is not a quota: a timeout is worth a retry.
		{"deadline exceeded", 200, jsonCT, gqlErr("unexpected", "context deadline exceeded"), cloud.ErrTransient},
		{"size exceeded", 200, jsonCT, gqlErr("unexpected", "request size exceeded"), cloud.ErrAPI},
		// A page in place of the API (a wrong endpoint) will not change.
		{"404 html", 404, nil, "<html><body>Not Found</body></html>", cloud.ErrAPI},
		// Quota texts are not documented: classified broadly.
		{"quota, other words", 200, jsonCT, gqlErr("unexpected", "You have reached the maximum number of preview apps"), cloud.ErrQuotaExceeded},
		{"quota, exceeded", 200, jsonCT, gqlErr("unexpected", "preview app creation limit exceeded for this month"), cloud.ErrQuotaExceeded},
		{"no data", 200, jsonCT, `{}`, cloud.ErrTransient},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := firstProject(clientFor(t, answer(t, c.status, c.header, c.body)), context.Background(), "x")
			ce := checkClass(t, err, c.want)
			if ce.Op != cloud.OpProjects || ce.Status != c.status {
				t.Errorf("error = %+v", ce)
			}
			if c.want == cloud.ErrQuotaExceeded && !strings.Contains(ce.Error(), strings.Split(c.body, `"message":"`)[1][:20]) {
				t.Errorf("the Cloud's own words are lost: %v", ce)
			}
			if c.status == 429 && ce.RetryAfter != 7*time.Second {
				t.Errorf("RetryAfter = %v", ce.RetryAfter)
			}
		})
	}
}

func TestOversizedAnswer(t *testing.T) {
	body := `{"data":{"projects":[],"pad":"` + strings.Repeat("x", 8<<20) + `"}}`
	_, err := firstProject(clientFor(t, answer(t, 200, nil, body)), context.Background(), "x")
	if ce := checkClass(t, err, cloud.ErrAPI); !strings.Contains(ce.Message, "larger than") {
		t.Errorf("error = %v", err)
	}
}

func TestRetryAfterDate(t *testing.T) {
	when := time.Now().Add(time.Minute).UTC().Format(http.TimeFormat)
	rec := &sleepRecorder{}
	c := clientFor(t, answer(t, 429, http.Header{"Retry-After": {when}}, ""),
		cloud.WithRetry(2, newStepBackOff), cloud.WithSleep(rec.sleep))
	_, err := firstProject(c, context.Background(), "x")
	checkClass(t, err, cloud.ErrTransient)
	// The date has whole seconds, so the wait is a little under a minute.
	if w := rec.all(); len(w) != 1 || w[0] < 50*time.Second || w[0] > time.Minute {
		t.Errorf("waits = %v, want one of about a minute", w)
	}
}

func TestErrorText(t *testing.T) {
	err := &cloud.Error{Op: "projects", Class: cloud.ErrTransient, Status: 503, Message: "busy", Err: context.DeadlineExceeded}
	if got, want := err.Error(), "hasura cloud projects: transient failure (HTTP 503): busy: context deadline exceeded"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, cloud.ErrTransient) || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, cloud.ErrAPI) {
		t.Error("Unwrap does not expose the class and the cause")
	}
	plain := &cloud.Error{Op: "jobs_by_pk", Class: cloud.ErrNotFound, Status: 200}
	if got, want := plain.Error(), "hasura cloud jobs_by_pk: not found"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	if _, err := cloud.New(""); err == nil {
		t.Error("New accepted an empty PAT")
	}
	for _, endpoint := range []string{"", "data.pro.hasura.io/v1/graphql", "ftp://x/v1/graphql", "http://"} {
		if _, err := cloud.New(testPAT, cloud.WithEndpoint(endpoint)); err == nil {
			t.Errorf("New accepted endpoint %q", endpoint)
		}
	}
	c, err := cloud.New(testPAT)
	if err != nil || cloud.EndpointOf(c) != cloud.DefaultEndpoint {
		t.Errorf("New() = %v, %v", c, err)
	}
}
