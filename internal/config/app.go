package config

import (
	"strings"
)

// The App's credentials, by the variables that set them.
const (
	envAppID   = "GITHUB_APP_ID"
	envAppKey  = "GITHUB_APP_PRIVATE_KEY"
	envKeyFile = "GITHUB_APP_PRIVATE_KEY_FILE"
	envSecret  = "GITHUB_WEBHOOK_SECRET"
)

// AppUnset reports whether the settings name none of the App's credentials:
// the service then looks for stored ones, or starts in setup mode.
func (c Config) AppUnset() bool {
	return c.GitHubAppID == 0 && !c.hasKey() && c.WebhookSecret == ""
}

func (c Config) hasKey() bool {
	return c.GitHubAppPrivateKey != "" || c.GitHubAppPrivateKeyFile != "" || c.privateKey != nil
}

// StoredApp is what GET /setup stored of the App it created.
type StoredApp struct {
	ID            int64
	PrivateKeyPEM string
	WebhookSecret string
}

// WithStoredApp fills each App credential the settings lack from stored
// (may be nil): a setting always wins. It fails with a *ValidationError
// naming every credential still missing, or a stored key that does not parse.
func (c Config) WithStoredApp(stored *StoredApp) (Config, error) {
	if stored != nil {
		if c.GitHubAppID == 0 {
			c.GitHubAppID = stored.ID
		}
		if c.WebhookSecret == "" {
			c.WebhookSecret = stored.WebhookSecret
		}
		if !c.hasKey() && stored.PrivateKeyPEM != "" {
			key, err := ParsePrivateKey([]byte(stored.PrivateKeyPEM))
			if err != nil {
				return c, &ValidationError{Problems: []Problem{{Var: envAppKey, Message: "the stored key " + err.Error()}}}
			}
			c.privateKey = key
		}
	}
	var ps []Problem
	if c.GitHubAppID <= 0 {
		ps = append(ps, Problem{Var: envAppID, Message: "required (the App ID shown on the GitHub App's settings page), or leave every App setting unset and create the App at /setup"})
	}
	if !c.hasKey() {
		ps = append(ps, Problem{Var: envAppKey, Message: "required: set " + envAppKey + " (PEM text) or " + envKeyFile + " (a path)"})
	}
	if c.WebhookSecret == "" {
		ps = append(ps, Problem{Var: envSecret, Message: "required: without it anyone could forge deliveries (use the secret set on the GitHub App)"})
	}
	if len(ps) > 0 {
		return c, &ValidationError{Problems: ps}
	}
	return c, nil
}

// WebhookURL is the App's webhook URL that GET /setup registers:
// WEBHOOK_PROXY_URL, else PUBLIC_URL/webhook ("" without PUBLIC_URL).
func (c Config) WebhookURL() string {
	if c.WebhookProxyURL != "" {
		return c.WebhookProxyURL
	}
	if c.PublicURL == "" {
		return ""
	}
	return strings.TrimSuffix(c.PublicURL, "/") + "/webhook"
}
