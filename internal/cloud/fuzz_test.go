package cloud_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
)

// fuzzAnswer is what the fuzz server says next. Fuzz inputs run one after
// another in a worker, but the lock keeps -race quiet about the handler.
type fuzzAnswer struct {
	mu         sync.Mutex
	status     int
	body       []byte
	retryAfter string
}

func (a *fuzzAnswer) set(status int, body []byte, retryAfter string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.status, a.body, a.retryAfter = status, body, retryAfter
}

func (a *fuzzAnswer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	a.mu.Lock()
	status, body, ra := a.status, a.body, a.retryAfter
	a.mu.Unlock()
	if ra != "" {
		w.Header().Set("Retry-After", ra)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// FuzzDecodeAnswer feeds arbitrary answers (status, body, Retry-After) to
// every operation: no panic, and every failure is an *Error of exactly one
// class; every success carries what the caller will dereference.
func FuzzDecodeAnswer(f *testing.F) {
	f.Add(200, []byte(`{"data":{"jobs_by_pk":{"id":"j","status":"success","tasks":[{"name":"t","task_events":[{"event_type":"success","public_event_data":{"projectId":"p"}}]}]}}}`), "")
	f.Add(200, []byte(`{"data":{"getTenantEnv":{"hash":"h","envVars":{"environment":{"A":1}}}}}`), "")
	f.Add(429, []byte(`{"errors":[{"message":"slow down","extensions":{"code":"too-many-requests"}}]}`), "120")
	f.Add(200, []byte(`{"errors":[{"message":"nothing changed in config","extensions":{"code":"bad-request"}}]}`), "")

	fa := &fuzzAnswer{}
	url := serve(f, fa)
	noSleep := func(context.Context, time.Duration) error { return nil }
	c, err := cloud.New("fuzz-pat", cloud.WithEndpoint(url), cloud.WithRetry(1, nil), cloud.WithSleep(noSleep),
		cloud.WithTimeout(10*time.Second))
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		// Real answers: 200 to 599 (1xx are interim, not answers).
		status = 200 + (status%400+400)%400
		fa.set(status, body, retryAfter)
		ctx := context.Background()
		check := func(op string, ok bool, err error) {
			t.Helper()
			if err == nil {
				if !ok {
					t.Fatalf("%s: success without a result for status %d, body %q", op, status, body)
				}
				return
			}
			var ce *cloud.Error
			if !errors.As(err, &ce) {
				t.Fatalf("%s: %v (%T) is not a *cloud.Error", op, err, err)
			}
			n := 0
			for _, class := range classes {
				if errors.Is(err, class) {
					n++
				}
			}
			if n != 1 || ce.Op == "" || err.Error() == "" {
				t.Fatalf("%s: error %#v matches %d classes", op, ce, n)
			}
		}

		id, err := c.CreateGitHubPreviewApp(ctx, preview("fuzz-app"))
		check("create", id != "", err)
		job, err := c.Job(ctx, unknownID)
		check("job", job != nil, err)
		if job != nil {
			_, _ = job.CreationResult()
			job.Failure()
			job.Done()
			for i := range job.Tasks {
				job.Tasks[i].Last()
			}
		}
		list, err := c.ProjectsByName(ctx, "fuzz-app")
		check("projects", true, err)
		_ = list
		p, err := c.Project(ctx, unknownID)
		check("project", p != nil, err)
		check("deleteTenant", true, c.DeleteTenant(ctx, unknownID))
		te, err := c.TenantEnv(ctx, unknownID)
		check("getTenantEnv", te != nil, err)
		te, err = c.UpdateTenantEnv(ctx, unknownID, "h", []cloud.EnvVar{{Key: "A", Value: "1"}})
		check("updateTenantEnv", te != nil, err)
		te, err = c.DeleteTenantEnv(ctx, unknownID, "h", []string{"A"})
		check("deleteTenantEnv", te != nil, err)
	})
}
