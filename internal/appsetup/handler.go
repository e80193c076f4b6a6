package appsetup

import (
	"cmp"
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// exchangeTimeout bounds the code exchange and the start with the new
// credentials, made while the browser waits.
const exchangeTimeout = 60 * time.Second

// Options configures a Handler.
type Options struct {
	Manifest   []byte // deploy/github-app-manifest.json; required
	PublicURL  string // PUBLIC_URL; without it the page says how to set it
	WebhookURL string // registered as the App's webhook URL
	// WebURL is GitHub's web root (https://github.com, or https://HOST
	// for GitHub Enterprise Server), APIURL its REST API root.
	WebURL string
	APIURL string
	// States, Storage, ActiveAppID (0 in setup mode) and Activate (serve
	// with the stored c) are required.
	States      States
	Storage     Storage
	ActiveAppID func() int64
	Activate    func(ctx context.Context, c *Credentials) error
	Logger      *slog.Logger // [slog.Default()]
}

// Handler serves GET /setup and GET /setup/callback, behind the
// dashboard's guard: it can bind the service to an App.
type Handler struct {
	o Options
	// mu lets one callback at a time exchange, store and activate.
	mu sync.Mutex
}

// NewHandler checks opts.
func NewHandler(opts Options) (*Handler, error) {
	if len(opts.Manifest) == 0 || opts.States == nil || opts.Storage == nil || opts.ActiveAppID == nil || opts.Activate == nil {
		return nil, errors.New("appsetup: Manifest, States, Storage, ActiveAppID and Activate are required")
	}
	opts.Logger = cmp.Or(opts.Logger, slog.Default())
	return &Handler{o: opts}, nil
}

// ServeHTTP routes /setup and /setup/callback.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/setup":
		h.page(w, r)
	case CallbackPath:
		h.callback(w, r)
	default:
		http.NotFound(w, r)
	}
}

// view is what the page template renders; one of its parts is set.
type view struct {
	// Setup mode: the form, or why there is none.
	Action      string
	Manifest    string
	Org         string
	WebhookURL  string
	NoPublicURL bool
	// Running.
	AppID      int64
	App        *Credentials
	InstallURL string
	Storage    string
	// Failure.
	Problem string
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if id := h.o.ActiveAppID(); id != 0 {
		v := view{AppID: id}
		// The stored App has a name and an installation page to show.
		if c, err := h.o.Storage.Load(ctx); err == nil && c != nil && c.AppID == id {
			v.App, v.InstallURL, v.Storage = c, c.InstallURL(), h.o.Storage.String()
		}
		h.render(w, http.StatusOK, v)
		return
	}
	if h.o.PublicURL == "" {
		h.render(w, http.StatusOK, view{NoPublicURL: true})
		return
	}
	org := strings.TrimSpace(r.URL.Query().Get("org"))
	action, err := NewAppURL(h.o.WebURL, org)
	if err != nil {
		h.render(w, http.StatusBadRequest, view{Problem: err.Error() + ". Leave the organization empty to create the App on your personal account."})
		return
	}
	manifest, err := Manifest(h.o.Manifest, h.o.WebhookURL, h.o.PublicURL)
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, "building the App manifest", err)
		return
	}
	state, err := h.o.States.Issue(ctx)
	if err != nil {
		h.fail(w, r, http.StatusServiceUnavailable, "issuing a setup state", err)
		return
	}
	h.render(w, http.StatusOK, view{
		Action: action + "?state=" + url.QueryEscape(state), Manifest: string(manifest), Org: org, WebhookURL: h.o.WebhookURL,
	})
}

// callback checks the state, exchanges the code, stores the credentials,
// starts with them, and sends the browser back to /setup.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	code, state := q.Get("code"), q.Get("state")
	if code == "" || state == "" {
		h.render(w, http.StatusBadRequest, view{Problem: "This address needs the code and state GitHub sends back after creating the App. Start at /setup."})
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	// Once GitHub answers, the private key exists nowhere else: a closed
	// tab must not stop the service from storing it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), exchangeTimeout)
	defer cancel()
	// The state is spent first: a replayed or forged link gets nothing.
	ok, err := h.o.States.Consume(ctx, state)
	if err != nil {
		h.fail(w, r, http.StatusServiceUnavailable, "checking the setup state", err)
		return
	}
	if !ok {
		h.o.Logger.WarnContext(ctx, "setup callback refused: unknown, used or expired state")
		h.render(w, http.StatusBadRequest, view{Problem: "This setup link was not issued by this service, was used already, or is over an hour old. Start again at /setup. If GitHub created an App anyway, delete it in its settings on GitHub."})
		return
	}
	if id := h.o.ActiveAppID(); id != 0 {
		h.render(w, http.StatusConflict, view{Problem: "This service already runs with GitHub App " + strconv.FormatInt(id, 10) + ". Delete the App GitHub just created in its settings on GitHub."})
		return
	}
	creds, err := Exchange(ctx, h.o.APIURL, code)
	if err != nil {
		h.fail(w, r, http.StatusBadGateway, "exchanging the code for the App's credentials", err)
		return
	}
	if err := h.o.Storage.Save(ctx, creds); err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, ErrAlreadyStored) {
			status = http.StatusConflict
		}
		// GitHub has the App: the operator must know what to do with it.
		h.fail(w, r, status, "storing the credentials of GitHub App "+strconv.FormatInt(creds.AppID, 10)+
			" (GitHub created it: delete it in its settings on GitHub and start again, or generate a private key and webhook secret there and set GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_WEBHOOK_SECRET)", err)
		return
	}
	h.o.Logger.InfoContext(ctx, "GitHub App created and stored", "app", creds, "storage", h.o.Storage.String())
	if err := h.o.Activate(ctx, creds); err != nil {
		h.fail(w, r, http.StatusInternalServerError, "starting with the new App (its credentials are stored: a restart picks them up)", err)
		return
	}
	http.Redirect(w, r, "/setup", http.StatusSeeOther)
}

// fail logs err (which never holds a credential) and shows it.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, what string, err error) {
	h.o.Logger.ErrorContext(r.Context(), "setup: "+what, "error", err)
	h.render(w, status, view{Problem: what + ": " + err.Error()})
}

func (h *Handler) render(w http.ResponseWriter, status int, v view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// No script, ever; the form goes to GitHub, whose redirect back to the
	// service counts as part of the form's navigation.
	formTo := []string{"'self'"}
	for _, u := range []string{h.o.WebURL, h.o.PublicURL} {
		if o := origin(u); o != "" {
			formTo = append(formTo, o)
		}
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'; form-action "+strings.Join(formTo, " "))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// For browsers without CSP's frame-ancestors.
	w.Header().Set("X-Frame-Options", "DENY")
	// The state rides in the form's URL: no Referer may carry it on.
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := pageTemplate.Execute(w, v); err != nil {
		h.o.Logger.Error("setup: rendering failed", "error", err)
	}
}

// origin is scheme://host of an http(s) URL, or "".
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

var pageTemplate = template.Must(template.New("setup").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hasura-preview setup</title>
<style>
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:40rem;color:#1f2328;padding:0 1rem}
h1{font-size:1.4rem}button.primary,a.primary{font-size:1rem;padding:.6rem 1.2rem;background:#1f883d;color:#fff;border:0;border-radius:6px;text-decoration:none;display:inline-block;cursor:pointer}
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace}.muted{color:#656d76}.problem{color:#cf222e}
</style>
</head>
<body>
<h1>hasura-preview setup</h1>
{{if .Problem}}<p class="problem" id="problem">{{.Problem}}</p>
<p><a href="/setup">Back to setup</a></p>
{{else if .AppID}}{{if .App}}<p id="done">This service runs as the GitHub App <strong id="app-name">{{.App.Name}}</strong> (ID {{.App.AppID}}, owned by {{.App.Owner}}); its credentials are kept in the {{.Storage}}.</p>
{{if .InstallURL}}<p><a class="primary" id="install" href="{{.InstallURL}}">Install {{.App.Name}} on your repositories</a></p>{{end}}
<p class="muted">Pull requests of the repositories you install it on, that carry <code>.github/hasura-preview.yml</code>, get a preview. The <a href="/">dashboard</a> shows the installations and the deliveries that arrive.</p>
{{else}}<p id="done">This service runs with GitHub App {{.AppID}} from its settings (<code>GITHUB_APP_ID</code>). Settings always win over an App created here.</p>{{end}}
{{else if .NoPublicURL}}<p class="problem" id="no-public-url">Set <code>PUBLIC_URL</code> to the address GitHub and your browser reach this service at (for example <code>https://previews.example.com</code>), restart, and reload this page.</p>
{{else}}<p>Create the GitHub App this service runs as, in one click: GitHub asks you for its name, creates it with the permissions and events the service needs, and sends you back here.</p>
<p class="muted">Webhook URL: <code id="webhook-url">{{.WebhookURL}}</code>. Account: {{if .Org}}the organization <strong id="org">{{.Org}}</strong>{{else}}your personal account{{end}}.</p>
<form id="create-app" method="post" action="{{.Action}}">
<input type="hidden" name="manifest" value="{{.Manifest}}">
<button class="primary" type="submit">Create the GitHub App on GitHub</button>
</form>
<form method="get" action="/setup" class="muted"><p>For an organization instead: <input name="org" value="{{.Org}}" placeholder="organization" aria-label="organization"> <button type="submit">Use it</button></p></form>
{{end}}
</body>
</html>
`))
