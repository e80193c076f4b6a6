package repoconfig

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

// newFetchEnv serves acme/shop from a simulator mounted where GitHub
// Enterprise mounts its API, and returns a client holding a token that
// may read its contents.
func newFetchEnv(t *testing.T) (*ghsim.Server, *github.Client) {
	t.Helper()
	sim, base := ghsim.NewTestServer(t, ghsim.Options{Prefix: "/api/v3/"})
	sim.AddRepo("acme", "shop")
	sim.AddToken("ghs_reader", ghsim.TokenSpec{
		Login: "hasura-preview[bot]", Repos: []string{"acme/shop"},
		Permissions: map[string]string{"contents": "read"},
	})
	gh, err := github.NewClient(nil).WithAuthToken("ghs_reader").WithEnterpriseURLs(base, base)
	if err != nil {
		t.Fatal(err)
	}
	return sim, gh
}

func TestFetchReadsTheBaseBranch(t *testing.T) {
	sim, gh := newFetchEnv(t)
	sim.SetFile("acme", "shop", "main", Path, "directory: db\npolicy:\n  require_label: preview\n")
	// The pull request's head tries to loosen its own policy.
	sim.SetFile("acme", "shop", "feature", Path, "directory: db\npolicy:\n  allow_forks: true\n")

	c, err := Fetch(context.Background(), gh, "acme", "shop", "main")
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if c.Directory != "db" || c.Policy.RequireLabel != "preview" || c.Policy.AllowForks {
		t.Errorf("Fetch = %+v, want the base branch's file", c)
	}
	reqs := sim.Requests()
	last := reqs[len(reqs)-1]
	if last.Path != "/repos/acme/shop/contents/.github/hasura-preview.yml" || last.Query != "ref=main" {
		t.Errorf("request = %s ?%s", last.Path, last.Query)
	}
}

func TestFetchEmptyFileMeansDefaults(t *testing.T) {
	sim, gh := newFetchEnv(t)
	sim.SetFile("acme", "shop", "main", Path, "")
	c, err := Fetch(context.Background(), gh, "acme", "shop", "main")
	if err != nil || c.Directory != DefaultDirectory {
		t.Fatalf("Fetch = %+v, %v", c, err)
	}
}

func TestFetchMissingFileIsNotConfigured(t *testing.T) {
	sim, gh := newFetchEnv(t)
	sim.SetFile("acme", "shop", "feature", Path, "directory: db\n") // only on the head
	sim.SetFile("acme", "shop", "main", ".github/workflows/ci.yml", "on: push\n")
	_, err := Fetch(context.Background(), gh, "acme", "shop", "main")
	if !errors.Is(err, ErrNotConfigured) {
		t.Fatalf("Fetch = %v, want ErrNotConfigured", err)
	}
}

func TestFetchFailures(t *testing.T) {
	tests := []struct {
		name   string
		seed   func(*ghsim.Server)
		ref    string
		check  func(error) bool
		detail string
	}{
		{"unknown branch is not 'not configured'", func(*ghsim.Server) {}, "gone",
			func(err error) bool {
				return err != nil && !errors.Is(err, ErrNotConfigured) && strings.Contains(err.Error(), `"gone" does not exist`)
			}, ""},
		{"not YAML", func(s *ghsim.Server) { s.SetFile("acme", "shop", "main", Path, "directory: [\n") }, "main",
			func(err error) bool { var pe *Error; return errors.As(err, &pe) }, "line 1: did not find expected node content"},
		{"unknown key", func(s *ghsim.Server) { s.SetFile("acme", "shop", "main", Path, "directroy: db\n") }, "main",
			func(err error) bool { var pe *Error; return errors.As(err, &pe) }, "line 1: unknown key `directroy`"},
		{"too large", func(s *ghsim.Server) {
			s.SetFile("acme", "shop", "main", Path, "# "+strings.Repeat("x", MaxSize)+"\n")
		}, "main", func(err error) bool { var pe *Error; return errors.As(err, &pe) }, "at most 65536"},
		{"too large for the contents API", func(s *ghsim.Server) {
			s.SetFile("acme", "shop", "main", Path, strings.Repeat("#", 2<<20))
		}, "main", func(err error) bool { var pe *Error; return errors.As(err, &pe) }, "at most 65536"},
		{"a directory", func(s *ghsim.Server) { s.SetFile("acme", "shop", "main", Path+"/x", "") }, "main",
			func(err error) bool { var pe *Error; return errors.As(err, &pe) }, "is not a file"},
		{"server error stays retryable", func(s *ghsim.Server) {
			s.Inject(ghsim.Fault{PathContains: "/contents/", Status: http.StatusServiceUnavailable})
		}, "main", func(err error) bool {
			var er *github.ErrorResponse
			return errors.As(err, &er) && er.Response.StatusCode == 503 && !errors.Is(err, ErrNotConfigured)
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, gh := newFetchEnv(t)
			tt.seed(sim)
			c, err := Fetch(context.Background(), gh, "acme", "shop", tt.ref)
			if !tt.check(err) || !strings.Contains(errString(err), tt.detail) {
				t.Fatalf("Fetch = %+v, %v", c, err)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
