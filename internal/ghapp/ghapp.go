// Package ghapp authenticates the webhook service as a GitHub App: a JWT
// client for App-level calls, one cached installation client per
// installation (tokens minted and refreshed by ghinstallation), and
// short-lived read-only tokens narrowed to one repository for Hasura Cloud
// to clone a branch with. It is the one place GitHub clients are built: the
// service's middleware goes on every installation client here, and
// go-github's rate-limit quirks are handled here (see rateLimitAnswers).
//
// Calls are retried on network errors, 5xx and rate limits; a 401 (wrong
// App ID or key) is permanent and says so. Nothing here logs, and no error
// carries a token or the private key.
package ghapp

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/cenkalti/backoff/v4"
	"github.com/google/go-github/v60/github"
)

// DefaultAPIURL is GitHub.com's REST API root.
const DefaultAPIURL = "https://api.github.com/"

// userAgent identifies the service to GitHub (and its support staff).
const userAgent = "hasura-preview (go-github/v60)"

// App is a GitHub App's identity; its methods are safe for concurrent use.
type App struct {
	appID      int64
	key        *rsa.PrivateKey
	base       *url.URL // API root with a trailing slash
	upload     *url.URL
	newBackOff func() backoff.BackOff

	appClient  *github.Client
	middleware []Middleware

	mu       sync.Mutex
	installs map[int64]*installation
	info     *github.App // GET /app, read once
}

// installation is one installation's cached client. Each has its own
// ghinstallation.AppsTransport, which ghinstallation writes to on every
// token refresh under the installation's lock: a shared one would race.
type installation struct {
	id     int64
	it     *ghinstallation.Transport
	client *github.Client
}

// requestTimeout bounds each HTTP request, token minting included.
const requestTimeout = 30 * time.Second

// Option configures an App.
type Option func(*App)

// WithBackOff sets the retry schedule, one per operation.
func WithBackOff(newBackOff func() backoff.BackOff) Option {
	return func(a *App) { a.newBackOff = newBackOff }
}

// defaultBackOff retries up to 4 times within a few seconds: long enough
// for a GitHub blip, short enough not to hold a worker.
func defaultBackOff() backoff.BackOff {
	return backoff.WithMaxRetries(backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(500*time.Millisecond),
		backoff.WithMaxInterval(5*time.Second),
		backoff.WithMaxElapsedTime(30*time.Second),
	), 4)
}

// New returns the App appID signing its JWTs with key, talking to the API
// root apiURL (see APIRoots). It makes no request.
func New(appID int64, key *rsa.PrivateKey, apiURL string, opts ...Option) (*App, error) {
	if appID <= 0 {
		return nil, errors.New("ghapp: the App ID must be a positive number")
	}
	if key == nil {
		return nil, errors.New("ghapp: no private key")
	}
	base, upload, err := APIRoots(apiURL)
	if err != nil {
		return nil, err
	}
	a := &App{
		appID: appID, key: key, base: base, upload: upload,
		newBackOff: defaultBackOff,
		installs:   map[int64]*installation{},
	}
	for _, o := range opts {
		o(a)
	}
	// ghinstallation's AppsTransport sets headers on the request it is
	// given, which a RoundTripper must not: it gets a copy.
	atr := a.appsTransport()
	a.appClient = a.newClient(roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return atr.RoundTrip(req.Clone(req.Context()))
	}))
	return a, nil
}

// APIRoots checks a REST API root (https://api.github.com/ when empty, or a
// GitHub Enterprise Server root such as https://ghe.example.com/api/v3/) and
// returns it and the uploads root, for a go-github client's BaseURL and
// UploadURL. go-github's WithEnterpriseURLs would append api/v3/ to a root
// that lacks it, such as a simulator's.
func APIRoots(apiURL string) (base, upload *url.URL, err error) {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	base, err = url.Parse(apiURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" || base.User != nil {
		return nil, nil, errors.New("ghapp: the API URL must be an absolute http(s) URL without credentials")
	}
	base.RawQuery, base.Fragment = "", ""
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
		base.RawPath = ""
	}
	// The uploads root as GitHub lays it out: nothing uploads, but
	// go-github wants a valid one.
	upload = &url.URL{Scheme: base.Scheme, Host: base.Host, Path: base.Path}
	switch {
	case strings.EqualFold(base.Host, "api.github.com"):
		upload.Host, upload.Path = "uploads.github.com", "/"
	case strings.HasSuffix(base.Path, "/api/v3/"):
		upload.Path = strings.TrimSuffix(base.Path, "v3/") + "uploads/"
	}
	return base, upload, nil
}

// appsTransport signs requests with a fresh JWT. Its BaseURL is the root
// ghinstallation appends "/app/installations/…" to: the API root without
// its trailing slash.
func (a *App) appsTransport() *ghinstallation.AppsTransport {
	atr := ghinstallation.NewAppsTransportFromPrivateKey(http.DefaultTransport, a.appID, a.key)
	atr.BaseURL = strings.TrimSuffix(a.base.String(), "/")
	return atr
}

func (a *App) newClient(rt http.RoundTripper) *github.Client {
	c := github.NewClient(&http.Client{Transport: rateLimitAnswers(rt), Timeout: requestTimeout})
	base, upload := *a.base, *a.upload
	c.BaseURL, c.UploadURL = &base, &upload
	c.UserAgent = userAgent
	return c
}

// Installation returns the cached client of installation id, making sure
// it holds a valid token, so that a wrong key or a removed installation
// surfaces here with a clear error rather than inside the first API call.
// A request answered 401 drops the client so the next call starts afresh.
func (a *App) Installation(ctx context.Context, id int64) (*github.Client, error) {
	if id <= 0 {
		return nil, fmt.Errorf("ghapp: invalid installation ID %d", id)
	}
	in := a.installation(id)
	if err := a.ensureToken(ctx, in); err != nil {
		if errors.Is(err, ErrInstallationNotFound) {
			a.drop(in)
		}
		return nil, err
	}
	return in.client, nil
}

func (a *App) installation(id int64) *installation {
	a.mu.Lock()
	defer a.mu.Unlock()
	if in := a.installs[id]; in != nil {
		return in
	}
	atr := a.appsTransport()
	it := ghinstallation.NewFromAppsTransport(atr, id)
	it.BaseURL = atr.BaseURL
	in := &installation{id: id, it: it}
	in.client = a.newClient(a.chain(in))
	a.installs[id] = in
	return in
}

// Forget drops the cached client of an installation.
func (a *App) Forget(id int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.installs, id)
}

// drop forgets in unless it was already replaced.
func (a *App) drop(in *installation) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.installs[in.id] == in {
		delete(a.installs, in.id)
	}
}

// ensureToken has ghinstallation return a valid token (cached or fresh).
func (a *App) ensureToken(ctx context.Context, in *installation) error {
	return a.retry(ctx, func() error {
		if _, err := in.it.Token(ctx); err != nil {
			return classifyMintError(ctx, err, in.id)
		}
		return nil
	})
}

// Info returns the App as GitHub describes it (GET /app, read once).
func (a *App) Info(ctx context.Context) (*github.App, error) {
	a.mu.Lock()
	info := a.info
	a.mu.Unlock()
	if info != nil {
		return info, nil
	}
	info, err := callAPI(ctx, a, "reading the App (GET /app)", func() (*github.App, *github.Response, error) {
		return a.appClient.Apps.Get(ctx, "")
	})
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.info = info
	a.mu.Unlock()
	return info, nil
}

// BotLogin returns the login the App acts as, "<slug>[bot]".
func (a *App) BotLogin(ctx context.Context) (string, error) {
	info, err := a.Info(ctx)
	if err != nil {
		return "", err
	}
	if info.GetSlug() == "" {
		return "", errors.New("reading the App (GET /app): GitHub returned no slug")
	}
	return info.GetSlug() + "[bot]", nil
}

// RepoInstalled asks GitHub, afresh, whether installation id still reaches
// owner/repo: an uninstall read from a webhook (whose event type is an
// unsigned header) is acted on only once GitHub confirms it.
func (a *App) RepoInstalled(ctx context.Context, id int64, owner, repo string) (bool, error) {
	op := fmt.Sprintf("reading the App's installation on %s/%s", owner, repo)
	// GitHub's REST docs, "Get a repository installation for the
	// authenticated app" (GET /repos/{owner}/{repo}/installation, JWT): 200
	// with the installation, 404 "Resource not found" when the App is not
	// installed on the repository.
	in, err := callAPI(ctx, a, op, func() (*github.Installation, *github.Response, error) {
		return a.appClient.Apps.FindRepositoryInstallation(ctx, owner, repo)
	})
	switch {
	case errors.Is(err, ErrInstallationNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	// Reinstalled since: another installation, and this one is gone.
	return in.GetID() == id, nil
}
