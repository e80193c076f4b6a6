package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/appsetup"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/sandbox"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
)

// setupEnv is s.env without any App setting, and with PUBLIC_URL.
func (s *sims) setupEnv(t testing.TB, databaseURL, publicURL string) map[string]string {
	env := s.env(t, databaseURL)
	delete(env, "GITHUB_APP_ID")
	delete(env, "GITHUB_APP_PRIVATE_KEY")
	delete(env, "GITHUB_WEBHOOK_SECRET")
	env["PUBLIC_URL"] = publicURL
	return env
}

// webRoot is the simulated GitHub's web root: ghsim is mounted under
// /api/v3/, so the service derives the web root as for GitHub Enterprise
// Server.
func (s *sims) webRoot() string { return strings.TrimSuffix(s.ghURL, "/api/v3/") }

var (
	formActionRe = regexp.MustCompile(`<form id="create-app" method="post" action="([^"]+)">`)
	formInputRe  = regexp.MustCompile(`<input type="hidden" name="manifest" value="([^"]+)">`)
	noRedirects  = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
)

// createApp runs the manifest flow as a browser would, without one:
// GET setupURL/setup, post its form to GitHub, and follow GitHub's redirect
// to callbackBase (the service that finishes the flow). It returns the App
// GitHub created.
func createApp(t *testing.T, s *sims, setupURL, callbackBase string) ghsim.CreatedApp {
	t.Helper()
	code, page := get(t, setupURL+"/setup")
	a, m := formActionRe.FindStringSubmatch(page), formInputRe.FindStringSubmatch(page)
	if code != http.StatusOK || a == nil || m == nil {
		t.Fatalf("GET /setup: %d, no form:\n%s", code, page)
	}
	resp, err := noRedirects.PostForm(html.UnescapeString(a[1]), url.Values{"manifest": {html.UnescapeString(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("GitHub's manifest page: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	cb, _ := url.Parse(callbackBase)
	back.Scheme, back.Host = cb.Scheme, cb.Host
	resp, err = noRedirects.Get(back.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/setup" {
		t.Fatalf("callback: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	apps := s.gh.CreatedApps()
	return apps[len(apps)-1]
}

// installationCreated is the "installation created" delivery GitHub sends
// when the App is installed on selected repositories.
func installationCreated(t testing.TB, id int64, account string, repos ...string) []byte {
	var rs []map[string]any
	for _, r := range repos {
		rs = append(rs, map[string]any{"name": r, "full_name": account + "/" + r, "private": true})
	}
	b, err := json.Marshal(map[string]any{
		"action":       "created",
		"installation": map[string]any{"id": id, "account": map[string]any{"login": account, "type": "User"}, "repository_selection": "selected"},
		"repositories": rs,
		"sender":       map[string]any{"login": account, "type": "User"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post sends a delivery signed with secret as App appID and returns the
// status.
func post(t testing.TB, serviceURL string, secret string, appID int64, event string, body []byte) int {
	t.Helper()
	status, _, err := sandbox.Post(context.Background(), nil, serviceURL+"/webhook", []byte(secret),
		sandbox.Delivery{Event: event, Body: body, AppID: appID})
	if err != nil {
		t.Fatal(err)
	}
	return status
}

// logBuffer collects the service's log at debug level.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSetupModeToPreview starts the service with no App at all: it
// serves /setup and refuses deliveries; the manifest flow creates the App
// on (simulated) GitHub, the service stores it in a 0600 file beside its
// SQLite database and, without a restart, takes deliveries signed with
// the new secret and builds a preview with the new App's tokens. Nothing
// it logs holds a credential.
func TestSetupModeToPreview(t *testing.T) {
	s := newSims(t)
	ln := listener(t)
	base := "http://" + ln.Addr().String()
	dbPath := storetest.SQLitePath(t)
	deps := fastDeps(t)
	deps.Listener = ln
	logs := &logBuffer{}
	deps.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := start(t, load(t, s.setupEnv(t, dbPath, base)), deps)

	// Setup mode.
	if st := post(t, svc.url, testSecret, testAppID, "ping", []byte(`{}`)); st != http.StatusServiceUnavailable {
		t.Errorf("delivery in setup mode: %d, want 503", st)
	}
	resp, err := noRedirects.Get(svc.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/setup" {
		t.Errorf("GET / in setup mode: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, _ := get(t, svc.url+"/readyz"); code != http.StatusOK {
		t.Errorf("readyz in setup mode: %d", code)
	}

	app := createApp(t, s, svc.url, svc.url)
	if app.HookURL != base+"/webhook" {
		t.Errorf("the App's webhook URL is %s", app.HookURL)
	}
	info, err := os.Stat(dbPath + appsetup.CredentialsFileSuffix)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, %v", info, err)
	}
	_, page := get(t, svc.url+"/setup")
	if !strings.Contains(page, "https://github.com/apps/"+app.Slug+"/installations/new") {
		t.Errorf("/setup does not link the installation page:\n%s", page)
	}

	// The operator installs the App; GitHub tells the service.
	const instID = 77
	s.gh.AddInstallation(app.ID, instID, sandbox.Owner, []string{sandbox.Repo})
	if st := post(t, svc.url, app.WebhookSecret, app.ID, "installation", installationCreated(t, instID, sandbox.Owner, sandbox.Repo)); st != http.StatusAccepted {
		t.Fatalf("installation delivery: %d", st)
	}
	// The old App's secret no longer opens anything; there never was one.
	if st := post(t, svc.url, testSecret, testAppID, "ping", []byte(`{}`)); st != http.StatusUnauthorized {
		t.Errorf("delivery signed with another secret: %d, want 401", st)
	}
	pr := prPayload(t, sandbox.PullRequest{Action: "opened", SHA: sandbox.FakeSHA("head 1"), UpdatedAt: time.Now(), InstallationID: instID})
	if st := post(t, svc.url, app.WebhookSecret, app.ID, "pull_request", pr); st != http.StatusAccepted {
		t.Fatalf("PR delivery signed with the new secret: %d", st)
	}
	eventually(t, "the preview is built", func() bool {
		for _, c := range commentBodies(s.gh, sandbox.PRNumber) {
			if strings.Contains(c, "is ready") {
				return true
			}
		}
		return false
	})
	minted := false
	for _, m := range s.gh.MintedTokens() {
		minted = minted || m.AppID == app.ID
	}
	if !minted {
		t.Error("no installation token of the new App was minted")
	}

	_, dash := get(t, svc.url+"/")
	for _, want := range []string{`id="app-name"`, app.Name, `id="installations"`, sandbox.Owner + "/" + sandbox.Repo, "Last delivery from GitHub"} {
		if !strings.Contains(dash, want) {
			t.Errorf("the dashboard lacks %q", want)
		}
	}

	if err := svc.stop(); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{app.WebhookSecret, app.ClientSecret, strings.Split(app.PrivateKeyPEM, "\n")[1]} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("the log shows a secret of the new App")
		}
	}
	if !strings.Contains(logs.String(), "GitHub App created and stored") {
		t.Error("no log line says the App was created")
	}

	// A restart finds the stored App: no setup mode.
	deps2 := fastDeps(t)
	svc2 := start(t, load(t, s.setupEnv(t, dbPath, base)), deps2)
	if st := post(t, svc2.url, app.WebhookSecret, app.ID, "ping", []byte(`{}`)); st != http.StatusOK {
		t.Errorf("ping after a restart: %d, want 200", st)
	}
}

// Settings always win over what /setup stored: here the stored file names
// the App and its key, and GITHUB_WEBHOOK_SECRET replaces its secret.
func TestSettingsWinOverStoredCredentials(t *testing.T) {
	s := newSims(t)
	dbPath := storetest.SQLitePath(t)
	fs := &appsetup.FileStorage{Path: dbPath + appsetup.CredentialsFileSuffix}
	if err := fs.Save(context.Background(), &appsetup.Credentials{
		AppID: testAppID, Slug: "hasura-preview", PrivateKeyPEM: keyPEM(t), WebhookSecret: "stored-secret",
	}); err != nil {
		t.Fatal(err)
	}
	env := s.setupEnv(t, dbPath, "http://127.0.0.1:1")
	env["GITHUB_WEBHOOK_SECRET"] = testSecret
	svc := start(t, load(t, env), fastDeps(t))
	if st := post(t, svc.url, testSecret, testAppID, "ping", []byte(`{}`)); st != http.StatusOK {
		t.Errorf("ping signed with the setting's secret: %d, want 200", st)
	}
	if st := post(t, svc.url, "stored-secret", testAppID, "ping", []byte(`{}`)); st != http.StatusUnauthorized {
		t.Errorf("ping signed with the stored secret: %d, want 401", st)
	}
	_, page := get(t, svc.url+"/setup")
	if !strings.Contains(page, `id="done"`) || strings.Contains(page, `id="create-app"`) {
		t.Errorf("/setup of a running service:\n%s", page)
	}

	// An App ID in the settings wins too; the stored key still fills in
	// (the simulator knows App testAppID+1 by the same key).
	env["GITHUB_APP_ID"] = strconv.Itoa(testAppID + 1)
	s.gh.AddApp(testAppID+1, &appKey(t).PublicKey)
	svc2 := start(t, load(t, env), fastDeps(t))
	if st := post(t, svc2.url, testSecret, testAppID+1, "ping", []byte(`{}`)); st != http.StatusOK {
		t.Errorf("ping: %d", st)
	}
	asSetting := false
	for _, r := range s.gh.Requests() {
		asSetting = asSetting || (r.Path == "/app" && r.Principal == "app:"+strconv.Itoa(testAppID+1))
	}
	if !asSetting {
		t.Error("the service did not identify itself as the App of GITHUB_APP_ID")
	}
}

// On PostgreSQL the flow may start on one replica and come back to
// another (a load balancer): the state and the credentials live in the
// database, and a replica still in setup mode picks the App up without a
// restart.
func TestSetupAcrossReplicasOnPostgres(t *testing.T) {
	dbURL := storetest.PostgresURL(t) // skips without HASURA_PREVIEW_TEST_POSTGRES_URL
	s := newSims(t)
	lnA, lnB := listener(t), listener(t)
	public := "http://" + lnB.Addr().String()
	depsA, depsB := fastDeps(t), fastDeps(t)
	depsA.Listener, depsB.Listener = lnA, lnB
	depsA.SetupPoll, depsB.SetupPoll = 50*time.Millisecond, 50*time.Millisecond
	a := start(t, load(t, s.setupEnv(t, dbURL, public)), depsA)
	b := start(t, load(t, s.setupEnv(t, dbURL, public)), depsB)

	// The page comes from A, GitHub sends the browser back to B.
	app := createApp(t, s, a.url, b.url)
	for name, url := range map[string]string{"B (finished the flow)": b.url, "A (read the store)": a.url} {
		eventually(t, name+" takes deliveries of the new App", func() bool {
			return post(t, url, app.WebhookSecret, app.ID, "ping", []byte(`{}`)) == http.StatusOK
		})
	}
}

// /setup sits behind the dashboard's guard: with DASHBOARD_PASSWORD set,
// the page and the callback ask for it.
func TestSetupIsGuarded(t *testing.T) {
	s := newSims(t)
	env := s.setupEnv(t, storetest.SQLitePath(t), "http://127.0.0.1:1")
	env["DASHBOARD_PASSWORD"] = "open-sesame"
	svc := start(t, load(t, env), fastDeps(t))
	for _, path := range []string{"/setup", "/setup/callback?code=abc&state=def", "/"} {
		if code, _ := get(t, svc.url+path); code != http.StatusUnauthorized {
			t.Errorf("GET %s without the password: %d, want 401", path, code)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, svc.url+"/setup", nil)
	req.SetBasicAuth("operator", "open-sesame")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `id="create-app"`) {
		t.Errorf("GET /setup with the password: %d\n%s", resp.StatusCode, body)
	}
}
