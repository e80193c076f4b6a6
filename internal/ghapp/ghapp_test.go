package ghapp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/cenkalti/backoff/v4"
	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

const (
	appID   = 4242
	instID  = 77
	account = "acme"
	retries = 3
)

var (
	keyOnce          sync.Once
	appKey, otherKey *rsa.PrivateKey
)

// keys generates two RSA keys once per test binary: generation is the
// slowest step of these tests.
func keys(t *testing.T) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		if appKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if otherKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return appKey, otherKey
}

// zeroBackOff retries at once, a bounded number of times.
func zeroBackOff() backoff.BackOff { return backoff.WithMaxRetries(&backoff.ZeroBackOff{}, retries) }

// setup starts a simulator mounted under /api/v3/ (as GitHub Enterprise
// mounts its API) with the App installed on acme's shop and docs
// repositories, and an App pointed at it.
func setup(t *testing.T) (*ghsim.Server, *App) {
	t.Helper()
	sim, base := newSim(t)
	return sim, appOn(t, base)
}

// newSim is setup's simulator and its API root, for an App built with
// other options.
func newSim(t *testing.T) (*ghsim.Server, string) {
	t.Helper()
	key, _ := keys(t)
	sim, base := ghsim.NewTestServer(t, ghsim.Options{Prefix: "/api/v3/"})
	sim.AddApp(appID, &key.PublicKey)
	sim.SetAppSlug(appID, "hasura-preview-test")
	sim.AddInstallation(appID, instID, account, []string{"shop", "docs"})
	sim.AddRepo("acme", "secret-plans") // not in the installation
	sim.SetFile("acme", "shop", "main", "hasura/config.yaml", "version: 3\n")
	sim.AddPull("acme", "shop", ghsim.PullSpec{Number: 7, HeadRef: "feature"})
	return sim, base
}

// appOn returns an App pointed at the API root base, with opts.
func appOn(t *testing.T, base string, opts ...Option) *App {
	t.Helper()
	key, _ := keys(t)
	app, err := New(appID, key, base, append([]Option{WithBackOff(zeroBackOff)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func TestNewValidates(t *testing.T) {
	key, _ := keys(t)
	for _, tt := range []struct {
		name string
		id   int64
		key  *rsa.PrivateKey
		url  string
	}{
		{"no id", 0, key, ""},
		{"no key", 1, nil, ""},
		{"relative URL", 1, key, "api.github.com"},
		{"credentials in URL", 1, key, "https://user:pass@ghe.example.com/api/v3/"},
		{"other scheme", 1, key, "ftp://ghe.example.com/"},
	} {
		if _, err := New(tt.id, tt.key, tt.url); err == nil {
			t.Errorf("%s: New succeeded", tt.name)
		} else if strings.Contains(err.Error(), "pass") {
			t.Errorf("%s: error shows the URL's password: %v", tt.name, err)
		}
	}
}

func TestBaseURLs(t *testing.T) {
	key, _ := keys(t)
	for _, tt := range []struct{ in, base, upload, token string }{
		{"", "https://api.github.com/", "https://uploads.github.com/", "https://api.github.com"},
		{"https://api.github.com", "https://api.github.com/", "https://uploads.github.com/", "https://api.github.com"},
		{"https://ghe.example.com/api/v3", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/uploads/", "https://ghe.example.com/api/v3"},
		{"http://127.0.0.1:9/", "http://127.0.0.1:9/", "http://127.0.0.1:9/", "http://127.0.0.1:9"},
	} {
		a, err := New(1, key, tt.in)
		if err != nil {
			t.Fatalf("New(%q): %v", tt.in, err)
		}
		c := a.appClient
		if c.BaseURL.String() != tt.base || c.UploadURL.String() != tt.upload || a.appsTransport().BaseURL != tt.token {
			t.Errorf("New(%q): base %s, upload %s, token root %s", tt.in, c.BaseURL, c.UploadURL, a.appsTransport().BaseURL)
		}
	}
}

func TestInstallationClientWorksUnderAPrefix(t *testing.T) {
	sim, app := setup(t)
	ctx := context.Background()
	gh, err := app.Installation(ctx, instID)
	if err != nil {
		t.Fatalf("Installation: %v", err)
	}
	if _, _, err := gh.Issues.CreateComment(ctx, "acme", "shop", 7, &github.IssueComment{Body: github.String("hi")}); err != nil {
		t.Fatalf("CreateComment: %v", err)
	}
	if _, _, err := gh.PullRequests.Get(ctx, "acme", "shop", 7); err != nil {
		t.Fatalf("PullRequests.Get: %v", err)
	}
	cs := sim.Comments("acme", "shop", 7)
	if len(cs) != 1 || cs[0].User != "hasura-preview-test[bot]" {
		t.Errorf("comments = %+v", cs)
	}
	// One token for the installation, with everything it was granted.
	minted := sim.MintedTokens()
	if len(minted) != 1 || minted[0].InstallationID != instID || minted[0].AppID != appID ||
		!reflect.DeepEqual(minted[0].Permissions, ghsim.DefaultInstallationPermissions()) {
		t.Errorf("minted = %+v", minted)
	}
	// The same client comes back, still holding its token.
	again, err := app.Installation(ctx, instID)
	if err != nil || again != gh {
		t.Errorf("second Installation = %p, %v; want the cached %p", again, err, gh)
	}
	if n := sim.Stats().TokensMinted; n != 1 {
		t.Errorf("tokens minted = %d, want 1", n)
	}
	for _, r := range sim.Requests() {
		if r.Status == http.StatusNotFound {
			t.Errorf("%s %s answered 404: a path lost the /api/v3/ prefix", r.Method, r.Path)
		}
	}
}

func TestInstallationsAreSeparate(t *testing.T) {
	sim, app := setup(t)
	sim.AddInstallation(appID, instID+1, "globex", []string{"site"})
	ctx := context.Background()
	a, err := app.Installation(ctx, instID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := app.Installation(ctx, instID+1)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two installations share a client")
	}
	if _, _, err := b.Repositories.Get(ctx, "acme", "shop"); !isStatus(err, http.StatusNotFound) {
		t.Errorf("globex's client reads acme/shop: %v", err)
	}
	app.Forget(instID)
	c, err := app.Installation(ctx, instID)
	if err != nil || c == a {
		t.Errorf("after Forget, Installation = %p (old %p), %v", c, a, err)
	}
}

func TestInstallationConcurrentUseMintsOnce(t *testing.T) {
	sim, app := setup(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	clients := make([]*github.Client, 16)
	errs := make([]error, len(clients))
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gh, err := app.Installation(ctx, instID)
			if err == nil {
				_, _, err = gh.Repositories.Get(ctx, "acme", "shop")
			}
			clients[i], errs[i] = gh, err
		}()
	}
	wg.Wait()
	for i := range clients {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		if clients[i] != clients[0] {
			t.Fatalf("goroutine %d got another client", i)
		}
	}
	if n := sim.Stats().TokensMinted; n != 1 {
		t.Errorf("tokens minted = %d, want 1", n)
	}
}

func TestUnauthorizedDropsTheCachedToken(t *testing.T) {
	sim, app := setup(t)
	ctx := context.Background()
	gh, err := app.Installation(ctx, instID)
	if err != nil {
		t.Fatal(err)
	}
	sim.Inject(ghsim.Fault{Method: "GET", PathContains: "/repos/acme/shop", Status: http.StatusUnauthorized, Message: "Bad credentials"})
	if _, _, err := gh.Repositories.Get(ctx, "acme", "shop"); !isStatus(err, http.StatusUnauthorized) {
		t.Fatalf("Get = %v, want the injected 401", err)
	}
	fresh, err := app.Installation(ctx, instID)
	if err != nil {
		t.Fatal(err)
	}
	if fresh == gh {
		t.Error("Installation returned the client whose token GitHub refused")
	}
	if _, _, err := fresh.Repositories.Get(ctx, "acme", "shop"); err != nil {
		t.Fatalf("Get with a fresh token: %v", err)
	}
	if n := sim.Stats().TokensMinted; n != 2 {
		t.Errorf("tokens minted = %d, want 2", n)
	}
}

func TestBotLogin(t *testing.T) {
	sim, app := setup(t)
	ctx := context.Background()
	for range 3 {
		login, err := app.BotLogin(ctx)
		if err != nil || login != "hasura-preview-test[bot]" {
			t.Fatalf("BotLogin = %q, %v", login, err)
		}
	}
	if n := sim.CountRequests("GET", "/app"); n != 1 {
		t.Errorf("GET /app made %d times, want 1 (cached)", n)
	}
	if app.appID != appID {
		t.Errorf("AppID = %d", app.appID)
	}
}

func TestBotLoginRetriesServerErrors(t *testing.T) {
	sim, app := setup(t)
	sim.Inject(ghsim.Fault{Method: "GET", PathContains: "/app", Status: http.StatusBadGateway, Count: 2})
	login, err := app.BotLogin(context.Background())
	if err != nil || login != "hasura-preview-test[bot]" {
		t.Fatalf("BotLogin = %q, %v", login, err)
	}
	if n := sim.CountRequests("GET", "/app"); n != 3 {
		t.Errorf("GET /app made %d times, want 3", n)
	}
}

func isStatus(err error, status int) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response.StatusCode == status
}

// pemOf renders a key the way GitHub hands it out, to check errors for it.
func pemOf(k *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}
