package ghsim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The GitHub App manifest flow, as GitHub documents it
// (https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest):
// a browser POSTs a form field "manifest" (JSON) to
// https://github.com/settings/apps/new, or
// https://github.com/organizations/ORGANIZATION/settings/apps/new, with an
// optional ?state=; GitHub registers the App and redirects to the
// manifest's redirect_url with ?code= (and the state); the site then
// exchanges the code at POST /app-manifests/{code}/conversions for the
// App's id, pem, webhook_secret, client_id and client_secret. "You must
// complete all three steps in the GitHub App Manifest flow within one
// hour."

// manifestCodeTTL is how long a manifest code can be exchanged.
const manifestCodeTTL = time.Hour

// firstManifestAppID keeps Apps created through the web flow apart from
// the ones tests register with AddApp.
const firstManifestAppID = 880000

// DefaultWebUser is who is signed in to the simulated web UI: the owner
// of an App registered for a personal account.
const DefaultWebUser = "octocat"

// CreatedApp is an App registered through the manifest flow, with the
// credentials GitHub generated for it, for tests to check what the code
// under test stored and to sign deliveries as GitHub would.
type CreatedApp struct {
	ID            int64
	Slug          string
	Name          string
	Owner         string // the organisation, or the signed-in user
	OwnerType     string // "Organization" or "User"
	HookURL       string // hook_attributes.url
	RedirectURL   string
	Public        bool
	Permissions   map[string]string // default_permissions
	Events        []string          // default_events
	WebhookSecret string
	ClientID      string
	ClientSecret  string
	PrivateKeyPEM string
	// Converted is set once the code was exchanged.
	Converted bool
}

type manifestCode struct {
	app     *CreatedApp
	expires time.Time
	used    bool
}

// manifestJSON is the part of a manifest the simulator reads.
type manifestJSON struct {
	Name           string `json:"name"`
	URL            string `json:"url"`
	HookAttributes *struct {
		URL    string `json:"url"`
		Active *bool  `json:"active"`
	} `json:"hook_attributes"`
	RedirectURL        string            `json:"redirect_url"`
	Public             bool              `json:"public"`
	DefaultPermissions map[string]string `json:"default_permissions"`
	DefaultEvents      []string          `json:"default_events"`
}

// CreatedApps lists the Apps registered through the manifest flow, oldest
// first.
func (s *Server) CreatedApps() []CreatedApp {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]CreatedApp, 0, len(s.st.created))
	for _, a := range s.st.created {
		c := *a
		c.Events = slices.Clone(a.Events)
		out = append(out, c)
	}
	return out
}

var orgLoginRe = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)

// serveWeb answers the web pages of the manifest flow, which live under
// the web root (the host's root), not the API prefix. It reports whether
// the request was one of them.
func (s *Server) serveWeb(w http.ResponseWriter, r *http.Request, body []byte) bool {
	p := r.URL.Path
	var org string
	switch {
	case p == "/settings/apps/new":
	case strings.HasPrefix(p, "/organizations/") && strings.HasSuffix(p, "/settings/apps/new"):
		org = strings.TrimSuffix(strings.TrimPrefix(p, "/organizations/"), "/settings/apps/new")
		if !orgLoginRe.MatchString(org) {
			http.NotFound(w, r)
			return true
		}
	default:
		return false
	}
	if r.Method != http.MethodPost {
		// A GET shows GitHub's blank registration form; the simulator has
		// none to show.
		http.Error(w, "the simulator only takes the manifest flow's POST here", http.StatusMethodNotAllowed)
		return true
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		http.Error(w, "expected a form with a manifest field", http.StatusBadRequest)
		return true
	}
	var m manifestJSON
	if err := json.Unmarshal([]byte(form.Get("manifest")), &m); err != nil {
		http.Error(w, "the manifest is not JSON", http.StatusUnprocessableEntity)
		return true
	}
	redirect, err := url.Parse(m.RedirectURL)
	switch {
	case m.HookAttributes == nil || m.HookAttributes.URL == "":
		// hook_attributes.url is the one required field of hook_attributes.
		http.Error(w, "the manifest has no hook_attributes.url", http.StatusUnprocessableEntity)
		return true
	case m.URL == "":
		http.Error(w, "the manifest has no url (the App's homepage, required)", http.StatusUnprocessableEntity)
		return true
	case err != nil || (redirect.Scheme != "http" && redirect.Scheme != "https") || redirect.Host == "":
		http.Error(w, "the manifest has no absolute redirect_url", http.StatusUnprocessableEntity)
		return true
	}

	app, err := s.registerManifestApp(m, org)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return true
	}
	code, err := randomHex(20)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return true
	}
	s.mu.Lock()
	s.st.manifestCodes[code] = &manifestCode{app: app, expires: s.now().Add(manifestCodeTTL)}
	s.mu.Unlock()

	q := redirect.Query()
	q.Set("code", code)
	if st := r.URL.Query().Get("state"); st != "" {
		q.Set("state", st)
	}
	redirect.RawQuery = q.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
	return true
}

// registerManifestApp creates the App a manifest describes, with a fresh
// key pair, webhook secret and OAuth client, and registers its public key
// so that its JWTs are accepted at once.
func (s *Server) registerManifestApp(m manifestJSON, org string) (*CreatedApp, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	secret, err1 := randomHex(20)
	clientID, err2 := randomHex(8)
	clientSecret, err3 := randomHex(20)
	if err := firstErr(err1, err2, err3); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(m.Name)
	if name == "" {
		name = "hasura-preview"
	}
	owner, ownerType := s.opts.WebUser, "User"
	if owner == "" {
		owner = DefaultWebUser
	}
	if org != "" {
		owner, ownerType = org, "Organization"
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	id := int64(firstManifestAppID + len(s.st.created))
	// Slugs are unique on GitHub; a second App of the same name gets a
	// suffix here (GitHub would ask for another name).
	slug := slugify(name)
	for n := 2; s.slugTaken(slug); n++ {
		slug = fmt.Sprintf("%s-%d", slugify(name), n)
	}
	app := &CreatedApp{
		ID: id, Slug: slug, Name: name, Owner: owner, OwnerType: ownerType,
		HookURL: m.HookAttributes.URL, RedirectURL: m.RedirectURL, Public: m.Public,
		Permissions: m.DefaultPermissions, Events: slices.Clone(m.DefaultEvents),
		WebhookSecret: secret, ClientID: "Iv1." + clientID, ClientSecret: clientSecret,
		PrivateKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})),
	}
	s.st.created = append(s.st.created, app)
	s.st.apps[id] = &appState{id: id, key: &key.PublicKey, slug: slug, createdAt: s.now(), manifest: app}
	s.st.userID(owner)
	return app, nil
}

func (s *Server) slugTaken(slug string) bool {
	for _, a := range s.st.apps {
		if a.slug == slug {
			return true
		}
	}
	return false
}

// slugify lowercases a name and turns every run of other characters into
// one hyphen, as GitHub does for App slugs.
func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimSuffix(b.String(), "-")
	if s == "" {
		s = "app"
	}
	return s
}

// manifestConversionJSON is the answer of POST
// /app-manifests/{code}/conversions: the App plus its secrets.
type manifestConversionJSON struct {
	appJSON
	ClientID      string `json:"client_id"`
	ClientSecret  string `json:"client_secret"`
	WebhookSecret string `json:"webhook_secret"`
	PEM           string `json:"pem"`
}

// convertManifest exchanges a manifest code, once, within the hour. It
// needs no authentication: the code is the credential. It reports
// whether the request was for it.
func (s *Server) convertManifest(c *call) bool {
	parts := strings.Split(strings.TrimPrefix(c.path, "/"), "/")
	if len(parts) != 3 || parts[0] != "app-manifests" || parts[2] != "conversions" || c.r.Method != http.MethodPost {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.takeFault(c.r.Method, c.path); f != nil {
		c.entry.Fault = true
		s.stats.FaultsServed++
		s.writeFault(c.w, f)
		return true
	}
	code, err := url.PathUnescape(parts[1])
	mc := s.st.manifestCodes[code]
	if err != nil || mc == nil || mc.used || !s.now().Before(mc.expires) {
		c.notFound()
		return true
	}
	mc.used = true
	mc.app.Converted = true
	a := mc.app
	st := s.st.apps[a.ID]
	writeJSON(c.w, http.StatusCreated, manifestConversionJSON{
		appJSON:  c.appJSON(st),
		ClientID: a.ClientID, ClientSecret: a.ClientSecret, WebhookSecret: a.WebhookSecret, PEM: a.PrivateKeyPEM,
	})
	return true
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
