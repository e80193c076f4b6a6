package main

import (
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/sandbox"
)

// TestSetupModeBinary runs the binary as README's "Run the service" does:
// only a Cloud token and PUBLIC_URL. It serves /setup, the manifest flow
// (through the simulated GitHub) gives it an App without a restart, the
// credentials land in a 0600 file beside the database, and after SIGTERM
// a second start finds them.
func TestSetupModeBinary(t *testing.T) {
	gh, apiURL := ghsim.NewTestServer(t, ghsim.Options{Prefix: "/api/v3/"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	db := filepath.Join(t.TempDir(), "hp.db")
	env := map[string]string{
		"HASURA_CLOUD_ACCESS_TOKEN": "pat", "GITHUB_API_URL": apiURL, "DATABASE_URL": db,
		"LISTEN_ADDR": addr, "PUBLIC_URL": "http://" + addr, "LOG_LEVEL": "debug",
	}
	p := spawn(t, env)
	base := p.listening(t)
	if st := postDelivery(t, base, "no-secret-yet"); st != http.StatusServiceUnavailable {
		t.Errorf("delivery in setup mode: %d, want 503", st)
	}

	page := fetchBody(t, base+"/setup")
	action := regexp.MustCompile(`<form id="create-app" method="post" action="([^"]+)">`).FindStringSubmatch(page)
	manifest := regexp.MustCompile(`<input type="hidden" name="manifest" value="([^"]+)">`).FindStringSubmatch(page)
	if action == nil || manifest == nil {
		t.Fatalf("/setup has no form:\n%s", page)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(html.UnescapeString(action[1]), url.Values{"manifest": {html.UnescapeString(manifest[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = noFollow.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d", resp.StatusCode)
	}
	app := gh.CreatedApps()[0]
	if st := postDelivery(t, base, app.WebhookSecret); st != http.StatusOK {
		t.Errorf("ping signed with the new secret: %d, want 200", st)
	}
	info, err := os.Stat(db + ".github-app.json")
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, %v", info, err)
	}
	for _, secret := range []string{app.WebhookSecret, app.ClientSecret, strings.Split(app.PrivateKeyPEM, "\n")[1]} {
		if strings.Contains(p.log()+p.stdout.String(), secret) {
			t.Fatal("the process printed a secret of the new App")
		}
	}

	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	p2 := spawn(t, env)
	if st := postDelivery(t, p2.listening(t), app.WebhookSecret); st != http.StatusOK {
		t.Errorf("ping after a restart: %d, want 200", st)
	}
}

func postDelivery(t *testing.T, base, secret string) int {
	t.Helper()
	st, _, err := sandbox.Post(t.Context(), nil, base+"/webhook", []byte(secret), sandbox.Delivery{Event: "ping", Body: []byte(`{"zen":"Keep it logically awesome."}`)})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func fetchBody(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
