package appsetup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/deploy"
	"github.com/hasura-preview/hasura-preview/internal/appsetup"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

// flow is a setup handler on a loopback server, against ghsim mounted as
// GitHub Enterprise Server (web root /, API /api/v3/).
type flow struct {
	sim       *ghsim.Server
	apiURL    string
	webRoot   string
	url       string // the service
	storage   *appsetup.FileStorage
	activeID  atomic.Int64
	mu        sync.Mutex
	activated []*appsetup.Credentials
	logs      *bytes.Buffer
}

func newFlow(t *testing.T, publicURL bool, opts ...func(*appsetup.Options)) *flow {
	t.Helper()
	sim, apiURL := ghsim.NewTestServer(t, ghsim.Options{Prefix: "/api/v3/"})
	f := &flow{sim: sim, apiURL: apiURL, webRoot: strings.TrimSuffix(apiURL, "/api/v3/"), logs: new(bytes.Buffer)}
	f.storage = &appsetup.FileStorage{Path: filepath.Join(t.TempDir(), "hp.db"+appsetup.CredentialsFileSuffix)}
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	o := appsetup.Options{
		Manifest: deploy.GitHubAppManifest, WebhookURL: srv.URL + "/webhook",
		WebURL: f.webRoot, APIURL: apiURL,
		States: appsetup.NewMemoryStates(nil), Storage: f.storage,
		ActiveAppID: f.activeID.Load,
		Activate: func(_ context.Context, c *appsetup.Credentials) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.activated = append(f.activated, c)
			f.activeID.Store(c.AppID)
			return nil
		},
		Logger: slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if publicURL {
		o.PublicURL = srv.URL
	}
	for _, f := range opts {
		f(&o)
	}
	handler, err := appsetup.NewHandler(o)
	if err != nil {
		t.Fatal(err)
	}
	h = handler
	return f
}

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func fetch(t *testing.T, method, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodPost {
		resp, err = noFollow.PostForm(u, form)
	} else {
		resp, err = noFollow.Get(u)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var (
	actionRe   = regexp.MustCompile(`<form id="create-app" method="post" action="([^"]+)">`)
	manifestRe = regexp.MustCompile(`<input type="hidden" name="manifest" value="([^"]+)">`)
)

// form reads the setup page's form: where it posts, and the manifest.
func (f *flow) form(t *testing.T, query string) (action string, manifest string) {
	t.Helper()
	resp, page := fetch(t, http.MethodGet, f.url+"/setup"+query, nil)
	a, m := actionRe.FindStringSubmatch(page), manifestRe.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || a == nil || m == nil {
		t.Fatalf("GET /setup%s: %d, no form:\n%s", query, resp.StatusCode, page)
	}
	return html.UnescapeString(a[1]), html.UnescapeString(m[1])
}

// submit posts the form to the simulated GitHub and returns where GitHub
// sends the browser back.
func (f *flow) submit(t *testing.T, action, manifest string) string {
	t.Helper()
	resp, body := fetch(t, http.MethodPost, action, url.Values{"manifest": {manifest}})
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GitHub's manifest page answered %d: %s", resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

// The whole flow through real HTTP: the page's form reaches GitHub with
// the manifest and a state, GitHub sends the browser back, the service
// exchanges the code, stores the credentials, starts with them and shows
// the installation page.
func TestSetupFlow(t *testing.T) {
	f := newFlow(t, true)
	action, manifest := f.form(t, "")
	if !strings.HasPrefix(action, f.webRoot+"/settings/apps/new?state=") {
		t.Fatalf("the form posts to %s", action)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(manifest), &m); err != nil {
		t.Fatal(err)
	}
	var base map[string]any
	_ = json.Unmarshal(deploy.GitHubAppManifest, &base)
	if !reflect.DeepEqual(m["default_permissions"], base["default_permissions"]) || !reflect.DeepEqual(m["default_events"], base["default_events"]) {
		t.Errorf("the manifest's permissions or events differ from deploy/github-app-manifest.json: %v", m)
	}

	callback := f.submit(t, action, manifest)
	if !strings.HasPrefix(callback, f.url+appsetup.CallbackPath+"?") {
		t.Fatalf("GitHub redirects to %s", callback)
	}
	resp, body := fetch(t, http.MethodGet, callback, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/setup" {
		t.Fatalf("callback: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}

	created := f.sim.CreatedApps()
	if len(created) != 1 || !created[0].Converted {
		t.Fatalf("created %+v", created)
	}
	app := created[0]
	if app.HookURL != f.url+"/webhook" || app.RedirectURL != f.url+appsetup.CallbackPath || app.OwnerType != "User" {
		t.Errorf("GitHub got hook %s, redirect %s, owner %s", app.HookURL, app.RedirectURL, app.OwnerType)
	}
	stored, err := f.storage.Load(context.Background())
	if err != nil || stored == nil {
		t.Fatalf("stored %v, %v", stored, err)
	}
	if stored.AppID != app.ID || stored.PrivateKeyPEM != app.PrivateKeyPEM || stored.WebhookSecret != app.WebhookSecret ||
		stored.ClientID != app.ClientID || stored.ClientSecret != app.ClientSecret {
		t.Errorf("stored %v, GitHub made %d", stored, app.ID)
	}
	if len(f.activated) != 1 || f.activated[0].AppID != app.ID {
		t.Errorf("activated %v", f.activated)
	}

	_, page := fetch(t, http.MethodGet, f.url+"/setup", nil)
	install := `href="https://github.com/apps/` + app.Slug + `/installations/new"`
	if !strings.Contains(page, install) || !strings.Contains(page, `id="app-name">`+app.Name) {
		t.Errorf("the page after setup lacks %s:\n%s", install, page)
	}
	if strings.Contains(page, `id="create-app"`) {
		t.Error("the page still offers to create an App")
	}

	// The same redirect again (a reload, or a link in someone's history)
	// is refused without asking GitHub.
	conversions := f.sim.CountRequests("POST", "/conversions")
	if resp, _ := fetch(t, http.MethodGet, callback, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("replayed callback: %d, want 400", resp.StatusCode)
	}
	if n := f.sim.CountRequests("POST", "/conversions"); n != conversions {
		t.Errorf("a replayed callback reached GitHub")
	}

	code, _ := url.Parse(callback)
	for _, secret := range []string{app.WebhookSecret, app.ClientSecret, strings.Split(app.PrivateKeyPEM, "\n")[1], code.Query().Get("code")} {
		if strings.Contains(f.logs.String(), secret) {
			t.Errorf("the log shows a secret of the new App")
		}
	}
	if !strings.Contains(f.logs.String(), "GitHub App created and stored") {
		t.Errorf("no log line for the new App:\n%s", f.logs)
	}
}

// A callback whose state this service did not issue is refused, and its
// code is never exchanged: a forged link cannot bind the service to
// someone else's App.
func TestForgedStateIsRefused(t *testing.T) {
	f := newFlow(t, true)
	_, manifest := f.form(t, "")
	callback := f.submit(t, f.webRoot+"/settings/apps/new?state=forged-by-attacker", manifest)
	resp, body := fetch(t, http.MethodGet, callback, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "was not issued by this service") {
		t.Errorf("forged state: %d\n%s", resp.StatusCode, body)
	}
	// No state at all.
	u, _ := url.Parse(callback)
	q := u.Query()
	q.Del("state")
	u.RawQuery = q.Encode()
	if resp, _ := fetch(t, http.MethodGet, u.String(), nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no state: %d", resp.StatusCode)
	}
	if f.sim.CreatedApps()[0].Converted || len(f.activated) != 0 {
		t.Error("the code of a forged callback was exchanged")
	}
	if c, _ := f.storage.Load(context.Background()); c != nil {
		t.Error("credentials were stored")
	}
}

// A code GitHub no longer knows fails with a message that does not quote
// the code.
func TestExchangeErrorsHideTheCode(t *testing.T) {
	f := newFlow(t, true)
	_, err := appsetup.Exchange(context.Background(), f.apiURL, "0123456789abcdef0123")
	if err == nil || strings.Contains(err.Error(), "0123456789abcdef0123") || !strings.Contains(err.Error(), "404") {
		t.Errorf("Exchange(unknown) = %v", err)
	}
	if _, err := appsetup.Exchange(context.Background(), f.apiURL, "../../app"); err == nil {
		t.Error("a code with a path in it was sent")
	}
}

func TestOrganizationAccount(t *testing.T) {
	f := newFlow(t, true)
	for _, bad := range []string{"a/../b", "-x", "x y", strings.Repeat("a", 40)} {
		if resp, _ := fetch(t, http.MethodGet, f.url+"/setup?org="+url.QueryEscape(bad), nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("org %q: %d", bad, resp.StatusCode)
		}
	}
	action, manifest := f.form(t, "?org=acme-corp")
	if !strings.HasPrefix(action, f.webRoot+"/organizations/acme-corp/settings/apps/new?state=") {
		t.Fatalf("the form posts to %s", action)
	}
	callback := f.submit(t, action, manifest)
	if resp, _ := fetch(t, http.MethodGet, callback, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d", resp.StatusCode)
	}
	if app := f.sim.CreatedApps()[0]; app.Owner != "acme-corp" || app.OwnerType != "Organization" {
		t.Errorf("owner %s (%s)", app.Owner, app.OwnerType)
	}
}

func TestSetupNeedsPublicURL(t *testing.T) {
	f := newFlow(t, false)
	_, page := fetch(t, http.MethodGet, f.url+"/setup", nil)
	if !strings.Contains(page, `id="no-public-url"`) || strings.Contains(page, `id="create-app"`) {
		t.Errorf("page without PUBLIC_URL:\n%s", page)
	}
}

// Once the service runs with an App, a late callback does not replace it.
func TestNoSecondApp(t *testing.T) {
	f := newFlow(t, true)
	action, manifest := f.form(t, "")
	f.activeID.Store(42)
	callback := f.submit(t, action, manifest)
	if resp, _ := fetch(t, http.MethodGet, callback, nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("callback while running: %d", resp.StatusCode)
	}
	if f.sim.CreatedApps()[0].Converted || len(f.activated) != 0 {
		t.Error("a second App was taken on")
	}
}

// The page runs no script, posts only to GitHub, and leaks no state in a
// Referer.
func TestSetupPageHeaders(t *testing.T) {
	f := newFlow(t, true)
	resp, page := fetch(t, http.MethodGet, f.url+"/setup", nil)
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "form-action 'self' " + f.webRoot + " " + f.url, "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if resp.Header.Get("Referrer-Policy") != "no-referrer" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", resp.Header)
	}
	if strings.Contains(page, "<script") {
		t.Error("the page has a script")
	}
}

// A browser that gives up while the service exchanges the code (a closed
// tab) does not cost the App: the code buys the private key once, so the
// service finishes storing and starting with it.
func TestClosedTabDoesNotLoseTheApp(t *testing.T) {
	f := newFlow(t, true, func(o *appsetup.Options) {
		// GitHub answers the exchange after the browser has given up.
		api, err := url.Parse(o.APIURL)
		if err != nil {
			t.Fatal(err)
		}
		proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: api.Scheme, Host: api.Host})
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(500 * time.Millisecond)
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(slow.Close)
		o.APIURL = slow.URL + api.Path
	})
	action, manifest := f.form(t, "")
	callback := f.submit(t, action, manifest)
	impatient := &http.Client{Timeout: 100 * time.Millisecond}
	if resp, err := impatient.Get(callback); err == nil {
		resp.Body.Close()
		t.Fatal("the browser did not give up")
	}
	deadline := time.Now().Add(30 * time.Second) // a guard against a hang
	for {
		if c, _ := f.storage.Load(context.Background()); c != nil && f.activeID.Load() == c.AppID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the App was lost with the browser")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
