// Package appsetup creates the service's GitHub App in one click, as
// GitHub's manifest flow allows
// (https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest):
// GET /setup posts the App's manifest to GitHub with a state the service
// issued; GitHub sends the browser back to /setup/callback with a code and
// that state; the service checks the state, exchanges the code for the
// App's credentials, stores them and starts serving with them. Nothing
// here logs a credential.
package appsetup

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Credentials is what GitHub hands over for an App created from the
// manifest. It holds secrets: print it only through String or LogValue.
type Credentials struct {
	AppID         int64     `json:"app_id"`
	Slug          string    `json:"slug"`
	Name          string    `json:"name"`
	Owner         string    `json:"owner"`
	HTMLURL       string    `json:"html_url"`
	PrivateKeyPEM string    `json:"pem"`
	WebhookSecret string    `json:"webhook_secret"`
	ClientID      string    `json:"client_id,omitempty"`
	ClientSecret  string    `json:"client_secret,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
}

// InstallURL is the page where the App is installed: html_url/installations/new.
func (c *Credentials) InstallURL() string {
	if c == nil || c.HTMLURL == "" {
		return ""
	}
	return strings.TrimSuffix(c.HTMLURL, "/") + "/installations/new"
}

// String names the App, never its secrets.
func (c Credentials) String() string {
	return fmt.Sprintf("GitHub App %d (%s, owner %s, secrets redacted)", c.AppID, c.Slug, c.Owner)
}

// GoString keeps %#v from printing the secrets.
func (c Credentials) GoString() string { return c.String() }

// LogValue shows the App's identity, and only whether each secret is set.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int64("app_id", c.AppID), slog.String("slug", c.Slug), slog.String("owner", c.Owner),
		slog.Bool("private_key", c.PrivateKeyPEM != ""), slog.Bool("webhook_secret", c.WebhookSecret != ""),
		slog.Bool("client_secret", c.ClientSecret != ""),
	)
}

// missing names what GitHub's answer lacks for the service to run.
func (c *Credentials) missing() []string {
	var out []string
	if c.AppID <= 0 {
		out = append(out, "id")
	}
	if c.PrivateKeyPEM == "" {
		out = append(out, "pem")
	}
	if c.WebhookSecret == "" {
		out = append(out, "webhook_secret")
	}
	return out
}
