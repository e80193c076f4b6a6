package cloud_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
)

// TestConsoleURLEscapesTheID: a project id from a bad answer must stay one
// path segment of cloud.hasura.io, not point elsewhere on the site.
func TestConsoleURLEscapesTheID(t *testing.T) {
	for _, id := range []string{"0b3d1c9e-7f2a-4e58-9a61-2c4d8e0f1b7a", "../../evil?x=1#frag", "a/b c%2F"} {
		u, err := url.Parse(cloud.ConsoleURL(id))
		if err != nil {
			t.Fatalf("%q: %v", id, err)
		}
		if u.Host != "cloud.hasura.io" || u.RawQuery != "" || u.Fragment != "" || u.Path != "/project/"+id+"/console" {
			t.Errorf("ConsoleURL(%q) = %s", id, u)
		}
	}
}

// TestRetryAfterIsCapped: a 429 asking for a day, with no deadline on the
// caller's context (the action had none), waits at most MaxRetryAfter.
func TestRetryAfterIsCapped(t *testing.T) {
	e := newEnv(t, nil)
	e.built("shop-pr-31")
	e.sim.Inject(cloudsim.Fault{Op: cloud.OpProjects, Kind: cloudsim.FaultRateLimit, RetryAfter: 24 * time.Hour})
	if _, err := firstProject(e.client, context.Background(), "shop-pr-31"); err != nil {
		t.Fatal(err)
	}
	w := e.sleeps.all()
	if len(w) != 1 || w[0] != cloud.MaxRetryAfter {
		t.Fatalf("waits = %v, want one of %v", w, cloud.MaxRetryAfter)
	}
}
