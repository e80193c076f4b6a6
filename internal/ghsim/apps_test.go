package ghsim_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

const (
	appID  = 4242
	instID = 99
)

// appKey is generated once: RSA key generation is the slowest thing here.
var appKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// signJWT signs claims RS256 by hand, so tests control every field.
func signJWT(t *testing.T, key *rsa.PrivateKey, alg string, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	head := enc(map[string]string{"alg": alg, "typ": "JWT"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(head))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return head + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func validClaims(now time.Time) map[string]any {
	return map[string]any{"iss": "4242", "iat": now.Add(-30 * time.Second).Unix(), "exp": now.Add(90 * time.Second).Unix()}
}

func TestInstallationTokenThroughGhinstallation(t *testing.T) {
	// Real clock: ghinstallation signs with time.Now.
	s, base := ghsim.NewTestServer(t, ghsim.Options{Prefix: enterprise})
	s.AddApp(appID, &appKey().PublicKey)
	s.AddInstallation(appID, instID, "acme", []string{"app", "other"})
	s.SetFile("acme", "app", "main", "hasura/config.yaml", "version: 3\n")
	s.SetFile("acme", "other", "main", "hasura/config.yaml", "version: 3\n")
	s.AddPull("acme", "app", ghsim.PullSpec{Number: 7})

	itr := ghinstallation.NewFromAppsTransport(ghinstallation.NewAppsTransportFromPrivateKey(http.DefaultTransport, appID, appKey()), instID)
	itr.BaseURL = strings.TrimSuffix(base, "/")
	itr.InstallationTokenOptions = &github.InstallationTokenOptions{
		Repositories: []string{"app"},
		Permissions:  &github.InstallationPermissions{Contents: github.String("read")},
	}
	c, err := github.NewClient(&http.Client{Transport: itr}).WithEnterpriseURLs(base, base)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	file, _, _, err := c.Repositories.GetContents(ctx, "acme", "app", "hasura/config.yaml", nil)
	if err != nil {
		t.Fatalf("reading with the narrowed token: %v", err)
	}
	if got, _ := file.GetContent(); got != "version: 3\n" {
		t.Fatalf("content %q", got)
	}
	_, _, _, err = c.Repositories.GetContents(ctx, "acme", "other", "hasura/config.yaml", nil)
	wantStatus(t, err, 404)
	_, _, err = c.Issues.CreateComment(ctx, "acme", "app", 7, &github.IssueComment{Body: github.String("x")})
	wantStatus(t, err, 403)

	minted := s.MintedTokens()
	if len(minted) != 1 {
		t.Fatalf("%d tokens minted, want 1 (the token must be reused)", len(minted))
	}
	m := minted[0]
	if m.InstallationID != instID || m.AllRepos || len(m.Repos) != 1 || m.Repos[0] != "acme/app" ||
		len(m.Permissions) != 2 || m.Permissions["contents"] != "read" || m.Permissions["metadata"] != "read" {
		t.Fatalf("minted = %+v", m)
	}
	if d := time.Until(m.ExpiresAt); d < 59*time.Minute || d > time.Hour {
		t.Fatalf("expires in %v, want an hour", d)
	}
	tok, err := itr.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	scope, ok := s.TokenScope(tok)
	if !ok || scope.Login != "hasura-preview[bot]" || scope.AllRepos || scope.Repos[0] != "acme/app" {
		t.Fatalf("TokenScope = %+v, %v", scope, ok)
	}
	for _, r := range s.Requests() {
		if strings.Contains(r.Path, "access_tokens") && (r.Auth != ghsim.AuthJWT || r.Principal != "app:4242" || r.Status != 201) {
			t.Fatalf("token exchange logged as %+v", r)
		}
	}
}

func TestAppJWTIsVerified(t *testing.T) {
	clk := clock.NewManual(t0)
	s, base := ghsim.NewTestServer(t, ghsim.Options{Prefix: enterprise, Now: clk.Now})
	s.AddApp(appID, &appKey().PublicKey)
	s.AddInstallation(appID, instID, "acme", nil)
	s.AddToken(botToken, ghsim.TokenSpec{AllRepos: true})
	otherKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	with := func(edit func(map[string]any)) map[string]any {
		c := validClaims(t0)
		edit(c)
		return c
	}
	tests := []struct {
		name string
		cred string
		want int
		msg  string
	}{
		{"valid", signJWT(t, appKey(), "RS256", validClaims(t0)), 200, ""},
		{"numeric iss", signJWT(t, appKey(), "RS256", with(func(c map[string]any) { c["iss"] = appID })), 200, ""},
		{"signed by another key", signJWT(t, otherKey, "RS256", validClaims(t0)), 401, "A JSON web token could not be decoded"},
		{"unknown app", signJWT(t, appKey(), "RS256", with(func(c map[string]any) { c["iss"] = "7" })), 401, "A JSON web token could not be decoded"},
		{"wrong alg", signJWT(t, appKey(), "RS512", validClaims(t0)), 401, "A JSON web token could not be decoded"},
		{"expired", signJWT(t, appKey(), "RS256", with(func(c map[string]any) { c["exp"] = t0.Add(-time.Second).Unix() })), 401,
			"'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"},
		{"exp too far", signJWT(t, appKey(), "RS256", with(func(c map[string]any) { c["exp"] = t0.Add(11 * time.Minute).Unix() })), 401,
			"'Expiration time' claim ('exp') is too far in the future"},
		{"iat in the future", signJWT(t, appKey(), "RS256", with(func(c map[string]any) { c["iat"] = t0.Add(5 * time.Minute).Unix() })), 401,
			"'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"},
		{"fractional exp", signJWT(t, appKey(), "RS256", with(func(c map[string]any) { c["exp"] = float64(t0.Unix()) + 60.5 })), 401,
			"'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"},
		{"a token is not a JWT", botToken, 401, "A JSON web token could not be decoded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := github.NewClient(nil).WithAuthToken(tc.cred).WithEnterpriseURLs(base, base)
			app, _, err := c.Apps.Get(context.Background(), "")
			if tc.want == 200 {
				if err != nil || app.GetID() != appID || app.GetSlug() != "hasura-preview" {
					t.Fatalf("GET /app = %+v, %v", app, err)
				}
				return
			}
			if er := wantStatus(t, err, tc.want); er.Message != tc.msg {
				t.Fatalf("message %q, want %q", er.Message, tc.msg)
			}
		})
	}

	// An App JWT is no installation token.
	jwtClient, _ := github.NewClient(nil).WithAuthToken(signJWT(t, appKey(), "RS256", validClaims(t0))).WithEnterpriseURLs(base, base)
	_, _, err = jwtClient.PullRequests.List(context.Background(), "acme", "app", nil)
	wantStatus(t, err, 403)
}

func TestAccessTokenNarrowing(t *testing.T) {
	clk := clock.NewManual(t0)
	s, base := ghsim.NewTestServer(t, ghsim.Options{Prefix: enterprise, Now: clk.Now})
	s.AddApp(appID, &appKey().PublicKey)
	s.AddApp(1, &appKey().PublicKey)
	s.AddInstallation(appID, instID, "acme", []string{"app"})
	s.AddInstallation(1, 100, "acme", nil)
	s.AddRepo("acme", "unlisted")
	s.AddRepo("globex", "app")
	c, _ := github.NewClient(nil).WithAuthToken(signJWT(t, appKey(), "RS256", validClaims(t0))).WithEnterpriseURLs(base, base)
	ctx := context.Background()

	inst, _, err := c.Apps.GetInstallation(ctx, instID)
	if err != nil || inst.GetAccount().GetLogin() != "acme" || inst.GetRepositorySelection() != "selected" ||
		inst.GetPermissions().GetDeployments() != "write" {
		t.Fatalf("installation = %+v, %v", inst, err)
	}
	_, _, err = c.Apps.GetInstallation(ctx, 100) // another App's
	wantStatus(t, err, 404)

	unlistedID, _ := s.RepoID("acme", "unlisted")
	for name, opts := range map[string]*github.InstallationTokenOptions{
		"repository outside the installation": {Repositories: []string{"unlisted"}},
		"repository id outside":               {RepositoryIDs: []int64{unlistedID}},
		"missing repository":                  {Repositories: []string{"ghost"}},
		"more than granted":                   {Permissions: &github.InstallationPermissions{Contents: github.String("write")}},
		"permission not granted at all":       {Permissions: &github.InstallationPermissions{Administration: github.String("read")}},
	} {
		_, _, err := c.Apps.CreateInstallationToken(ctx, instID, opts)
		var er *github.ErrorResponse
		if !errors.As(err, &er) || er.Response.StatusCode != 422 {
			t.Errorf("%s: %v, want 422", name, err)
		}
	}

	repoID, _ := s.RepoID("acme", "app")
	tok, resp, err := c.Apps.CreateInstallationToken(ctx, instID, &github.InstallationTokenOptions{RepositoryIDs: []int64{repoID}})
	if err != nil || resp.StatusCode != 201 {
		t.Fatal(err)
	}
	if len(tok.Repositories) != 1 || tok.Repositories[0].GetFullName() != "acme/app" ||
		tok.GetPermissions().GetIssues() != "write" || !tok.GetExpiresAt().Time.Equal(t0.Add(time.Hour)) {
		t.Fatalf("token = %+v", tok)
	}

	// A token of an installation on all of acme's repositories still
	// cannot see another account's.
	c1, _ := github.NewClient(nil).WithAuthToken(signJWT(t, appKey(), "RS256", with1(validClaims(t0)))).WithEnterpriseURLs(base, base)
	wide, _, err := c1.Apps.CreateInstallationToken(ctx, 100, nil)
	if err != nil || len(wide.Repositories) != 0 {
		t.Fatalf("all-repositories token: %+v, %v", wide, err)
	}
	tc := client(t, base, wide.GetToken())
	if _, _, err := tc.Repositories.Get(ctx, "acme", "unlisted"); err != nil {
		t.Fatalf("own account: %v", err)
	}
	_, _, err = tc.Repositories.Get(ctx, "globex", "app")
	wantStatus(t, err, 404)

	clk.Advance(time.Hour)
	_, _, err = tc.Repositories.Get(ctx, "acme", "unlisted")
	if er := wantStatus(t, err, 401); er.Message != "Bad credentials" {
		t.Fatalf("expired installation token: %q", er.Message)
	}
}

func with1(c map[string]any) map[string]any {
	c["iss"] = "1"
	return c
}

// TestRepositoryInstallation: GET /repos/{owner}/{repo}/installation (JWT)
// answers the App's installation covering the repository, and 404 once the
// repository leaves the installation or the App is uninstalled.
func TestRepositoryInstallation(t *testing.T) {
	s, base := ghsim.NewTestServer(t, ghsim.Options{Prefix: enterprise})
	s.AddApp(appID, &appKey().PublicKey)
	s.AddInstallation(appID, instID, "acme", []string{"app", "web"})
	s.AddRepo("acme", "unlisted")
	c, _ := github.NewClient(nil).WithAuthToken(signJWT(t, appKey(), "RS256", validClaims(time.Now()))).WithEnterpriseURLs(base, base)
	ctx := context.Background()
	if inst, _, err := c.Apps.FindRepositoryInstallation(ctx, "acme", "app"); err != nil || inst.GetID() != instID {
		t.Fatalf("installation of acme/app: %+v %v", inst, err)
	}
	_, _, err := c.Apps.FindRepositoryInstallation(ctx, "acme", "unlisted")
	wantStatus(t, err, 404)
	s.SetInstallationRepositories(instID, []string{"web"})
	_, _, err = c.Apps.FindRepositoryInstallation(ctx, "acme", "app")
	wantStatus(t, err, 404)
	if !s.RemoveInstallation(instID) {
		t.Fatal("RemoveInstallation: no such installation")
	}
	_, _, err = c.Apps.FindRepositoryInstallation(ctx, "acme", "web")
	wantStatus(t, err, 404)
	_, _, err = c.Apps.GetInstallation(ctx, instID)
	wantStatus(t, err, 404)
}
