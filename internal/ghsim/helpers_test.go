package ghsim_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

// t0 is the fixed start of the test clock. Being in the past also keeps
// go-github from refusing requests client-side after a rate-limit answer.
var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

const (
	botToken   = "tok-bot-secret-value"
	botLogin   = "hasura-preview[bot]"
	owner      = "acme"
	repoName   = "app"
	enterprise = "/api/v3/"
)

// newSim starts a simulator under GitHub Enterprise's /api/v3/ prefix on a
// test clock, with acme/app, PR 7, and a bot token that may do what the
// reporter needs on acme/app.
func newSim(t *testing.T) (*ghsim.Server, string, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(t0)
	s, base := ghsim.NewTestServer(t, ghsim.Options{Prefix: enterprise, Now: clk.Now})
	s.AddPull(owner, repoName, ghsim.PullSpec{Number: 7, HeadRef: "feature", HeadSHA: strings.Repeat("a", 40)})
	s.AddToken(botToken, ghsim.TokenSpec{
		Login: botLogin, Repos: []string{owner + "/" + repoName},
		Permissions: map[string]string{
			"issues": "write", "pull_requests": "write", "deployments": "write", "contents": "read",
		},
	})
	return s, base, clk
}

// client is a go-github client as production builds one for GHES.
func client(t *testing.T, base, token string) *github.Client {
	t.Helper()
	c, err := github.NewClient(nil).WithAuthToken(token).WithEnterpriseURLs(base, base)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantStatus asserts err is a go-github *ErrorResponse with status code.
func wantStatus(t *testing.T, err error, code int) *github.ErrorResponse {
	t.Helper()
	var er *github.ErrorResponse
	if !errors.As(err, &er) {
		t.Fatalf("err = %v (%T), want *github.ErrorResponse %d", err, err, code)
	}
	if er.Response.StatusCode != code {
		t.Fatalf("status = %d (%s), want %d", er.Response.StatusCode, er.Message, code)
	}
	return er
}

// get performs a raw GET and decodes a JSON answer into out (if non-nil).
func get(t *testing.T, url, token string, out any) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "token "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("decoding %s: %v\n%s", url, err, body)
		}
	}
	return resp
}
