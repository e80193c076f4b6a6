package ghapp

import (
	"context"
	"crypto/rsa"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

// A key that is not the App's, or an App ID GitHub does not know, is a
// configuration mistake: one request, no retries, and an error that says
// what to check.
func TestWrongCredentialsArePermanent(t *testing.T) {
	key, other := keys(t)
	tests := []struct {
		name string
		id   int64
		key  func() *rsa.PrivateKey
	}{
		{"wrong key", appID, func() *rsa.PrivateKey { return other }},
		{"wrong App ID", appID + 1, func() *rsa.PrivateKey { return key }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, right := setup(t)
			app, err := New(tt.id, tt.key(), right.appClient.BaseURL.String(), WithBackOff(zeroBackOff))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			_, errInst := app.Installation(ctx, instID)
			_, _, errTok := app.RepoReadToken(ctx, instID, "acme", "shop")
			_, errBot := app.BotLogin(ctx)
			for name, err := range map[string]error{"Installation": errInst, "RepoReadToken": errTok, "BotLogin": errBot} {
				if !errors.Is(err, ErrJWTRejected) {
					t.Errorf("%s = %v, want ErrJWTRejected", name, err)
					continue
				}
				msg := err.Error()
				if !strings.Contains(msg, "check GITHUB_APP_ID and the private key") || !strings.Contains(msg, "HTTP 401") {
					t.Errorf("%s error does not say what to check: %s", name, msg)
				}
				if strings.Contains(msg, "PRIVATE KEY") || strings.Contains(msg, "eyJ") {
					t.Errorf("%s error shows a credential: %s", name, msg)
				}
			}
			if n := sim.CountRequests("POST", "access_tokens"); n != 2 {
				t.Errorf("%d minting requests, want 2 (one per call, no retries)", n)
			}
			if n := sim.CountRequests("GET", "/app"); n != 1 {
				t.Errorf("%d GET /app requests, want 1", n)
			}
		})
	}
}

func TestInstallationRetriesMinting(t *testing.T) {
	sim, app := setup(t)
	sim.Inject(ghsim.Fault{Method: "POST", PathContains: "access_tokens", Status: http.StatusBadGateway, Count: 2})
	gh, err := app.Installation(context.Background(), instID)
	if err != nil {
		t.Fatalf("Installation: %v", err)
	}
	if _, _, err := gh.Repositories.Get(context.Background(), "acme", "shop"); err != nil {
		t.Fatal(err)
	}
	if n := sim.CountRequests("POST", "access_tokens"); n != 3 {
		t.Errorf("%d minting requests, want 3", n)
	}
}

// When minting keeps failing inside an API call (the token expired between
// Installation and the call), the call fails with the classified error.
func TestMintingFailureInsideACall(t *testing.T) {
	sim, app := setup(t)
	ctx := context.Background()
	in := app.installation(instID) // cached, no token yet
	sim.Inject(ghsim.Fault{Method: "POST", PathContains: "access_tokens", Status: http.StatusServiceUnavailable, Count: -1})
	_, _, err := in.client.Repositories.Get(ctx, "acme", "shop")
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusServiceUnavailable || !e.Temporary() {
		t.Fatalf("Get = %v, want a temporary 503 from minting", err)
	}
	if n := sim.CountRequests("GET", "/repos/acme/shop"); n != 0 {
		t.Errorf("the call went out %d times without a token", n)
	}
	if n := sim.CountRequests("POST", "access_tokens"); n != retries+1 {
		t.Errorf("%d minting requests, want %d", n, retries+1)
	}
}

func TestUninstalledInstallation(t *testing.T) {
	sim, app := setup(t)
	_, err := app.Installation(context.Background(), 999)
	if !errors.Is(err, ErrInstallationNotFound) {
		t.Fatalf("Installation(999) = %v", err)
	}
	if n := sim.CountRequests("POST", "access_tokens"); n != 1 {
		t.Errorf("%d minting requests, want 1", n)
	}
	app.mu.Lock()
	_, cached := app.installs[999]
	app.mu.Unlock()
	if cached {
		t.Error("a missing installation stays cached")
	}
	if _, err := app.Installation(context.Background(), 0); err == nil {
		t.Error("Installation(0) succeeded")
	}
}

func TestNoSecretsInErrors(t *testing.T) {
	sim, app := setup(t)
	key, _ := keys(t)
	tok, _, err := app.RepoReadToken(context.Background(), instID, "acme", "shop")
	if err != nil {
		t.Fatal(err)
	}
	sim.Inject(ghsim.Fault{PathContains: "access_tokens", Status: http.StatusInternalServerError, Count: -1})
	_, _, errTok := app.RepoReadToken(context.Background(), instID, "acme", "shop")
	_, errInst := app.Installation(context.Background(), instID)
	for _, err := range []error{errTok, errInst} {
		if err == nil {
			t.Fatal("no error under a permanent 500")
		}
		for _, secret := range []string{tok, "ghs_", "Bearer", strings.Split(pemOf(key), "\n")[1]} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows a credential: %v", err)
			}
		}
	}
}
