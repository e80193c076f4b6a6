package ghapp

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

func TestRepoReadTokenIsNarrowed(t *testing.T) {
	sim, app := setup(t)
	ctx := context.Background()
	before := time.Now()
	tok, exp, err := app.RepoReadToken(ctx, instID, "acme", "shop")
	if err != nil {
		t.Fatalf("RepoReadToken: %v", err)
	}
	minted := sim.MintedTokens()
	if len(minted) != 1 {
		t.Fatalf("minted %d tokens, want 1", len(minted))
	}
	m := minted[0]
	if m.InstallationID != instID || m.AllRepos || !reflect.DeepEqual(m.Repos, []string{"acme/shop"}) ||
		!reflect.DeepEqual(m.Permissions, map[string]string{"contents": "read", "metadata": "read"}) {
		t.Errorf("minted %+v, want acme/shop with contents: read only", m)
	}
	if !exp.Equal(m.ExpiresAt) || exp.Before(before.Add(50*time.Minute)) {
		t.Errorf("expiry %v, simulator says %v", exp, m.ExpiresAt)
	}
	scope, ok := sim.TokenScope(tok)
	if !ok || !reflect.DeepEqual(scope.Repos, []string{"acme/shop"}) {
		t.Fatalf("the returned token is not the minted one: %+v", scope)
	}
	req := sim.Requests()[len(sim.Requests())-1]
	if req.Method != "POST" || req.Path != "/app/installations/77/access_tokens" || req.Auth != ghsim.AuthJWT {
		t.Errorf("minted with %s %s (%s)", req.Method, req.Path, req.Auth)
	}

	// What the token can do, seen from the Cloud's side.
	gh := tokenClient(t, app, tok)
	if _, _, _, err := gh.Repositories.GetContents(ctx, "acme", "shop", "hasura/config.yaml", &github.RepositoryContentGetOptions{Ref: "main"}); err != nil {
		t.Errorf("reading acme/shop: %v", err)
	}
	if _, _, _, err := gh.Repositories.GetContents(ctx, "acme", "docs", "README.md", nil); !isStatus(err, http.StatusNotFound) {
		t.Errorf("reading acme/docs (same installation) = %v, want 404", err)
	}
	if _, _, err := gh.Issues.CreateComment(ctx, "acme", "shop", 7, &github.IssueComment{Body: github.String("x")}); !isStatus(err, http.StatusForbidden) {
		t.Errorf("commenting = %v, want 403", err)
	}

	// A second job gets a token of its own.
	tok2, _, err := app.RepoReadToken(ctx, instID, "acme", "shop")
	if err != nil || tok2 == tok {
		t.Errorf("second RepoReadToken = same token %v, %v", tok2 == tok, err)
	}
}

// tokenClient is a client that uses tok as Hasura Cloud would.
func tokenClient(t *testing.T, app *App, tok string) *github.Client {
	t.Helper()
	base := app.appClient.BaseURL.String()
	gh, err := github.NewClient(nil).WithAuthToken(tok).WithEnterpriseURLs(base, base)
	if err != nil {
		t.Fatal(err)
	}
	return gh
}

func TestRepoReadTokenFailures(t *testing.T) {
	tests := []struct {
		name       string
		seed       func(*ghsim.Server)
		inst       int64
		owner      string
		repo       string
		want       error
		wantMsg    string
		wantMints  int // POST access_tokens requests
		wantTokens int // tokens issued
	}{
		{"repository outside the installation", nil, instID, "acme", "secret-plans", ErrRepoNotInstalled,
			"not part of the installation", 1, 0},
		{"another account's repository of the same name", func(s *ghsim.Server) {
			s.AddInstallation(appID, instID+1, "globex", []string{"shop"})
		}, instID + 1, "acme", "shop", ErrRepoNotInstalled, "globex/shop", 1, 1},
		{"unknown installation", nil, 999, "acme", "shop", ErrInstallationNotFound, "HTTP 404", 1, 0},
		{"contents permission not granted", func(s *ghsim.Server) {
			s.SetInstallationPermissions(instID, map[string]string{"metadata": "read", "issues": "write"})
		}, instID, "acme", "shop", ErrPermissionNotGranted, "HTTP 422", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, app := setup(t)
			if tt.seed != nil {
				tt.seed(sim)
			}
			tok, _, err := app.RepoReadToken(context.Background(), tt.inst, tt.owner, tt.repo)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantMsg) || tok != "" {
				t.Fatalf("RepoReadToken = %q, %v; want %v mentioning %q", tok, err, tt.want, tt.wantMsg)
			}
			if n := sim.CountRequests("POST", "access_tokens"); n != tt.wantMints {
				t.Errorf("%d minting requests, want %d (permanent failures are not retried)", n, tt.wantMints)
			}
			if n := len(sim.MintedTokens()); n != tt.wantTokens {
				t.Errorf("%d tokens issued, want %d", n, tt.wantTokens)
			}
		})
	}
}

func TestRepoReadTokenRetriesServerErrors(t *testing.T) {
	sim, app := setup(t)
	sim.Inject(ghsim.Fault{Method: "POST", PathContains: "access_tokens", Status: http.StatusInternalServerError, Count: 1})
	sim.Inject(ghsim.Fault{Method: "POST", PathContains: "access_tokens", Status: http.StatusBadGateway, Count: 1})
	sim.Inject(ghsim.Fault{Method: "POST", PathContains: "access_tokens", Status: http.StatusTooManyRequests, Count: 1})
	tok, _, err := app.RepoReadToken(context.Background(), instID, "acme", "shop")
	if err != nil || tok == "" {
		t.Fatalf("RepoReadToken = %v", err)
	}
	if n := sim.CountRequests("POST", "access_tokens"); n != 4 {
		t.Errorf("%d minting requests, want 4", n)
	}
}

func TestRepoReadTokenGivesUp(t *testing.T) {
	sim, app := setup(t)
	sim.Inject(ghsim.Fault{Method: "POST", PathContains: "access_tokens", Status: http.StatusServiceUnavailable, Count: -1})
	_, _, err := app.RepoReadToken(context.Background(), instID, "acme", "shop")
	var e *Error
	if !errors.As(err, &e) || !e.Temporary() || e.Status != 503 || !strings.Contains(err.Error(), "gave up after 4 attempts") {
		t.Fatalf("RepoReadToken = %v, want a temporary 503 after 4 attempts", err)
	}
	if n := sim.CountRequests("POST", "access_tokens"); n != retries+1 {
		t.Errorf("%d minting requests, want %d", n, retries+1)
	}
}

func TestRepoReadTokenStopsWithContext(t *testing.T) {
	sim, app := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := app.RepoReadToken(ctx, instID, "acme", "shop"); !errors.Is(err, context.Canceled) {
		t.Fatalf("RepoReadToken = %v, want context.Canceled", err)
	}
	if n := sim.CountRequests("POST", "access_tokens"); n != 0 {
		t.Errorf("%d minting requests after cancellation", n)
	}
}

func TestRepoReadTokenArguments(t *testing.T) {
	_, app := setup(t)
	for _, args := range [][3]string{{"", "shop"}, {"acme", ""}, {"acme", "acme/shop"}} {
		if _, _, err := app.RepoReadToken(context.Background(), instID, args[0], args[1]); err == nil {
			t.Errorf("RepoReadToken(%q, %q) succeeded", args[0], args[1])
		}
	}
}

// TestRevokeToken: a revoked read token no longer reads the repository;
// revoking it again is not an error.
func TestRevokeToken(t *testing.T) {
	sim, app := setup(t)
	ctx := context.Background()
	tok, _, err := app.RepoReadToken(ctx, instID, "acme", "shop")
	if err != nil {
		t.Fatal(err)
	}
	if err := app.RevokeToken(ctx, tok); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if m := sim.MintedTokens(); len(m) != 1 || !m[0].Revoked {
		t.Fatalf("minted %+v", m)
	}
	gh := tokenClient(t, app, tok)
	if _, _, _, err := gh.Repositories.GetContents(ctx, "acme", "shop", "hasura/config.yaml", nil); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("reading with the revoked token = %v, want 401", err)
	}
	if err := app.RevokeToken(ctx, tok); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
}
