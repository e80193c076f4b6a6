package appsetup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/ghapp"
)

// CallbackPath is where GitHub sends the browser back, with ?code= and ?state=.
const CallbackPath = "/setup/callback"

// Manifest returns base (deploy/github-app-manifest.json) with the URLs
// of this deployment: hook_attributes.url is where GitHub delivers events
// and redirect_url where it sends the browser with the code. GitHub's
// manifest parameters: "hook_attributes: url (required)", "redirect_url:
// The full URL to redirect to after a user initiates the registration of
// a GitHub App from a manifest."
func Manifest(base []byte, webhookURL, publicURL string) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(base, &m); err != nil {
		return nil, fmt.Errorf("the App manifest is not a JSON object: %w", err)
	}
	hook, _ := m["hook_attributes"].(map[string]any)
	if hook == nil {
		hook = map[string]any{"active": true}
	}
	hook["url"] = webhookURL
	m["hook_attributes"] = hook
	m["redirect_url"] = strings.TrimSuffix(publicURL, "/") + CallbackPath
	return json.Marshal(m)
}

// orgRe is GitHub's rule for account names: letters, digits and single
// hyphens, not at either end, at most 39 characters.
var orgRe = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,38}$`)

// NewAppURL is the page the manifest is posted to, under GitHub's web
// root (https://github.com, or a GitHub Enterprise Server's
// https://HOST): GitHub's docs name
// https://github.com/settings/apps/new for a personal account and
// https://github.com/organizations/ORGANIZATION/settings/apps/new for an
// organisation.
func NewAppURL(webRoot, org string) (string, error) {
	root := strings.TrimSuffix(webRoot, "/")
	if org == "" {
		return root + "/settings/apps/new", nil
	}
	if len(org) > 39 || !orgRe.MatchString(org) {
		return "", fmt.Errorf("%q is not a GitHub organization name", org)
	}
	return root + "/organizations/" + url.PathEscape(org) + "/settings/apps/new", nil
}

// codeRe keeps the code, which goes into the URL path, to the characters
// GitHub's codes are made of.
var codeRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// Exchange trades the code GitHub sent the browser back with for the
// App's credentials: POST /app-manifests/{code}/conversions at apiURL
// (https://api.github.com/ or a GitHub Enterprise Server's
// https://HOST/api/v3/), answered with "the GitHub App's id, pem (private
// key), and webhook_secret" (and client_id, client_secret). The code is
// a credential until it is used: no error quotes it.
func Exchange(ctx context.Context, apiURL, code string) (*Credentials, error) {
	if !codeRe.MatchString(code) {
		return nil, errors.New("the code GitHub sent back is malformed")
	}
	base, upload, err := ghapp.APIRoots(apiURL)
	if err != nil {
		return nil, err
	}
	gh := github.NewClient(nil)
	gh.BaseURL, gh.UploadURL = base, upload
	cfg, resp, err := gh.Apps.CompleteAppManifest(ctx, code)
	if err != nil {
		// go-github's error quotes the URL, which holds the code.
		var er *github.ErrorResponse
		switch {
		case errors.As(err, &er) && resp != nil && resp.StatusCode == http.StatusNotFound:
			return nil, errors.New("GitHub does not know the code (HTTP 404): it was used already or is over an hour old; start again at /setup")
		case errors.As(err, &er) && resp != nil:
			return nil, fmt.Errorf("GitHub refused the code: HTTP %d: %s", resp.StatusCode, clip(er.Message))
		case ctx.Err() != nil:
			return nil, fmt.Errorf("exchanging the code: %w", ctx.Err())
		}
		return nil, errors.New("exchanging the code: GitHub could not be reached")
	}
	c := &Credentials{
		AppID: cfg.GetID(), Slug: cfg.GetSlug(), Name: cfg.GetName(), Owner: cfg.GetOwner().GetLogin(),
		HTMLURL: cfg.GetHTMLURL(), PrivateKeyPEM: cfg.GetPEM(), WebhookSecret: cfg.GetWebhookSecret(),
		ClientID: cfg.GetClientID(), ClientSecret: cfg.GetClientSecret(), CreatedAt: cfg.GetCreatedAt().Time,
	}
	if miss := c.missing(); len(miss) > 0 {
		return nil, fmt.Errorf("GitHub's answer lacks %s", strings.Join(miss, ", "))
	}
	return c, nil
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
