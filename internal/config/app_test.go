package config

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Settings always win over what /setup stored; what they lack comes from
// the store; what neither has is named.
func TestWithStoredApp(t *testing.T) {
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	storedPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)}))
	stored := &StoredApp{ID: 777, PrivateKeyPEM: storedPEM, WebhookSecret: "stored-secret"}
	envKey, _ := ParsePrivateKey([]byte(pkcs1(t)))

	t.Run("nothing set takes everything stored", func(t *testing.T) {
		cfg, err := Load(nil, getenv(map[string]string{"HASURA_CLOUD_ACCESS_TOKEN": cloudToken}))
		if err != nil {
			t.Fatal(err)
		}
		if !cfg.AppUnset() {
			t.Fatal("AppUnset = false with no App setting")
		}
		got, err := cfg.WithStoredApp(stored)
		if err != nil {
			t.Fatal(err)
		}
		if got.GitHubAppID != 777 || got.WebhookSecret != "stored-secret" || !got.PrivateKey().Equal(other) {
			t.Errorf("got ID %d, secret %q, stored key %v", got.GitHubAppID, got.WebhookSecret, got.PrivateKey().Equal(other))
		}
	})
	t.Run("settings win", func(t *testing.T) {
		cfg, err := Load(nil, getenv(minimal(t)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := cfg.WithStoredApp(stored)
		if err != nil {
			t.Fatal(err)
		}
		if got.GitHubAppID != 4242 || got.WebhookSecret != webhookSecret || !got.PrivateKey().Equal(envKey) {
			t.Errorf("a stored value replaced a setting: ID %d, secret %q", got.GitHubAppID, got.WebhookSecret)
		}
	})
	t.Run("one setting wins, the rest is stored", func(t *testing.T) {
		cfg, err := Load(nil, getenv(map[string]string{"HASURA_CLOUD_ACCESS_TOKEN": cloudToken, "GITHUB_WEBHOOK_SECRET": "rotated"}))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.AppUnset() {
			t.Error("AppUnset = true with GITHUB_WEBHOOK_SECRET set")
		}
		got, err := cfg.WithStoredApp(stored)
		if err != nil {
			t.Fatal(err)
		}
		if got.GitHubAppID != 777 || got.WebhookSecret != "rotated" || !got.PrivateKey().Equal(other) {
			t.Errorf("got ID %d, secret %q", got.GitHubAppID, got.WebhookSecret)
		}
	})
	t.Run("missing without a store", func(t *testing.T) {
		cfg, err := Load(nil, getenv(map[string]string{"HASURA_CLOUD_ACCESS_TOKEN": cloudToken, "GITHUB_APP_ID": "5"}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = cfg.WithStoredApp(nil)
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("WithStoredApp(nil) = %v, want a *ValidationError", err)
		}
		var vars []string
		for _, p := range ve.Problems {
			vars = append(vars, p.Var)
		}
		if want := []string{"GITHUB_APP_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET"}; !reflect.DeepEqual(vars, want) {
			t.Errorf("problems name %v, want %v", vars, want)
		}
	})
	t.Run("a corrupt stored key is named, not shown", func(t *testing.T) {
		cfg, _ := Load(nil, getenv(map[string]string{"HASURA_CLOUD_ACCESS_TOKEN": cloudToken}))
		_, err := cfg.WithStoredApp(&StoredApp{ID: 1, PrivateKeyPEM: "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0\n-----END RSA PRIVATE KEY-----\n", WebhookSecret: "s"})
		if err == nil || !containsAll(err.Error(), "GITHUB_APP_PRIVATE_KEY", "stored key") || containsAll(err.Error(), "c2VjcmV0") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestWebhookURL(t *testing.T) {
	for _, tt := range []struct{ public, proxy, want string }{
		{"", "", ""},
		{"https://previews.example.com", "", "https://previews.example.com/webhook"},
		{"https://previews.example.com/", "", "https://previews.example.com/webhook"},
		{"http://localhost:8080", "https://smee.io/abc", "https://smee.io/abc"},
	} {
		if got := (Config{PublicURL: tt.public, WebhookProxyURL: tt.proxy}).WebhookURL(); got != tt.want {
			t.Errorf("WebhookURL(%q, %q) = %q, want %q", tt.public, tt.proxy, got, tt.want)
		}
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
