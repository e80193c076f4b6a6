package dashboard_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/config"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/sandbox"
	"github.com/hasura-preview/hasura-preview/internal/service"
)

// EnvChromium names a Chromium binary for the browser test (CI installs
// Debian's chromium and sets it).
const EnvChromium = "HASURA_PREVIEW_TEST_CHROMIUM"

// hostileRef is a valid git branch name that is also markup.
const hostileRef = `feat/"><script>document.title='pwned'</script>`

// TestDashboardInChromium runs the real service against the in-process
// simulators, builds a preview for a PR whose branch name is markup, and
// loads the dashboard in headless Chromium: the browser shows the preview
// row with its endpoint link and the delivery row, and no script ran.
func TestDashboardInChromium(t *testing.T) {
	chromium := os.Getenv(EnvChromium)
	if chromium == "" {
		t.Skip(EnvChromium + " is not set (CI installs Debian's chromium and sets it)")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const appID, secret = 9, "browser-secret"
	sims, err := sandbox.Start(sandbox.Options{AppID: appID, PublicKey: &key.PublicKey, CloudToken: "browser-pat",
		CreationDuration: 200 * time.Millisecond, TaskDuration: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Close)
	sha := sandbox.FakeSHA("hostile head")
	sims.GitHub.UpdatePull(sandbox.Owner, sandbox.Repo, sandbox.PRNumber, func(p *ghsim.PullSpec) { p.HeadRef, p.HeadSHA = hostileRef, sha })

	env := map[string]string{
		"HASURA_CLOUD_ACCESS_TOKEN": "browser-pat",
		"HASURA_CLOUD_ENDPOINT":     sims.CloudURL,
		"GITHUB_APP_ID":             fmt.Sprint(appID),
		"GITHUB_APP_PRIVATE_KEY":    string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})),
		"GITHUB_WEBHOOK_SECRET":     secret,
		"GITHUB_API_URL":            sims.GitHubURL,
		"DATABASE_URL":              filepath.Join(t.TempDir(), "state.db"),
		"LOG_LEVEL":                 "error",
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- service.Run(ctx, cfg, service.Deps{Listener: ln, Ready: func(u string) { ready <- u },
			Stdout: io.Discard, Stderr: io.Discard, Poll: preview.PollPolicy{Initial: 50 * time.Millisecond, Max: 200 * time.Millisecond}})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("the service did not start: %v", err)
	}

	body, err := sandbox.PullRequest{Action: "opened", Branch: hostileRef, SHA: sha, UpdatedAt: time.Now(), APIURL: sims.GitHubURL}.Payload()
	if err != nil {
		t.Fatal(err)
	}
	status, answer, err := sandbox.Post(ctx, nil, base+"/webhook", []byte(secret), sandbox.Delivery{Event: "pull_request", Body: body, AppID: appID})
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("delivery: %d %s %v", status, answer, err)
	}
	deadline := time.Now().Add(time.Minute) // a guard against a hang
	for {
		if code, _, page := get(t, base+"/"); code == http.StatusOK && strings.Contains(page, `tone-good">ready`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the preview did not become ready")
		}
		time.Sleep(50 * time.Millisecond)
	}

	dom := dumpDOM(t, chromium, base+"/")
	for _, want := range []string{
		`<a class="endpoint" href="https://hello-world-pr-2.hasura.app/v1/graphql">https://hello-world-pr-2.hasura.app/v1/graphql</a>`,
		`<td class="status tone-good">ready</td>`,
		`<a class="pr" href="https://github.com/Codertocat/Hello-World/pull/2">#2</a>`,
		`<code>pull_request/opened</code>`,
		`<td class="outcome tone-good">accepted</td>`,
		`<title>hasura-preview</title>`, // a script would have renamed it
		`feat/"&gt;&lt;script&gt;document.title='pwned'&lt;/script&gt;`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("Chromium's DOM lacks %s", want)
		}
	}
	if strings.Contains(dom, "<script") {
		t.Error("the branch name became a script element")
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
}

// dumpDOM loads url in headless Chromium and returns the DOM after load.
func dumpDOM(t *testing.T, chromium, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--dump-dom", url)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return string(out)
}
