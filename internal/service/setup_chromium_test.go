package service_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/sandbox"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
)

// envChromium names a Chromium binary for the browser tests (.ci/run
// installs one and sets it).
const envChromium = "HASURA_PREVIEW_TEST_CHROMIUM"

// TestSetupInChromium is the operator's first five minutes in a real
// browser: the service starts without an App, headless Chromium opens
// /setup and clicks the button, the form goes to (simulated) GitHub with
// the manifest, GitHub's redirect brings the browser back to the
// service, which exchanges the code and lands the browser on /setup with
// the App's installation link. Then a delivery signed with the new
// secret builds a preview, and the dashboard, in the browser, shows the
// App, its installation and the last delivery.
func TestSetupInChromium(t *testing.T) {
	chromium := os.Getenv(envChromium)
	if chromium == "" {
		t.Skip(envChromium + " is not set (.ci/run installs Chromium and sets it)")
	}
	s := newSims(t)
	ln := listener(t)
	base := "http://" + ln.Addr().String()
	deps := fastDeps(t)
	deps.Listener = ln
	svc := start(t, load(t, s.setupEnv(t, storetest.SQLitePath(t), base)), deps)

	b := launch(t, chromium)
	b.navigate(t, svc.url+"/setup")
	if html := b.html(t); !strings.Contains(html, `id="create-app"`) {
		t.Fatalf("/setup offers no button:\n%s", html)
	}
	b.click(t, "#create-app button")
	b.waitFor(t, "the browser is back on /setup with the installation link", func(href, html string) bool {
		return href == svc.url+"/setup" && strings.Contains(html, `id="install"`)
	})
	apps := s.gh.CreatedApps()
	if len(apps) != 1 || !apps[0].Converted {
		t.Fatalf("GitHub has %+v", apps)
	}
	app := apps[0]
	page := b.html(t)
	for _, want := range []string{
		`<a class="primary" id="install" href="https://github.com/apps/` + app.Slug + `/installations/new">`,
		`<strong id="app-name">` + app.Name + `</strong>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page after setup lacks %s:\n%s", want, page)
		}
	}
	if app.HookURL != base+"/webhook" || app.RedirectURL != base+"/setup/callback" {
		t.Errorf("GitHub got hook %s and redirect %s", app.HookURL, app.RedirectURL)
	}

	const instID = 91
	s.gh.AddInstallation(app.ID, instID, sandbox.Owner, []string{sandbox.Repo})
	if st := post(t, svc.url, app.WebhookSecret, app.ID, "installation", installationCreated(t, instID, sandbox.Owner, sandbox.Repo)); st != http.StatusAccepted {
		t.Fatalf("installation delivery: %d", st)
	}
	pr := prPayload(t, sandbox.PullRequest{Action: "opened", SHA: sandbox.FakeSHA("head 1"), UpdatedAt: time.Now(), InstallationID: instID})
	if st := post(t, svc.url, app.WebhookSecret, app.ID, "pull_request", pr); st != http.StatusAccepted {
		t.Fatalf("PR delivery signed with the new secret: %d", st)
	}
	eventually(t, "the preview is ready", func() bool { _, p := get(t, svc.url+"/"); return strings.Contains(p, `tone-good">ready`) })

	b.navigate(t, svc.url+"/")
	dash := b.html(t)
	for _, want := range []string{
		`<strong id="app-name"><a href="https://github.com/apps/` + app.Slug + `">` + app.Name + `</a></strong>`,
		// The simulator is mounted as GitHub Enterprise Server: its web
		// root is the host's root.
		`<td class="repos"><a href="` + s.webRoot() + `/Codertocat/Hello-World">Codertocat/Hello-World</a></td>`,
		`Last delivery from GitHub:`,
		`<td class="status tone-good">ready</td>`,
	} {
		if !strings.Contains(dash, want) {
			t.Errorf("the dashboard lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("dashboard:\n%s", dash)
	}
}

// browser drives headless Chromium over the DevTools protocol on a pipe
// (--remote-debugging-pipe: commands on fd 3, answers on fd 4, each a
// JSON message ended by a NUL byte), so no WebSocket library is needed.
type browser struct {
	t       *testing.T
	w       *os.File
	session string

	mu      sync.Mutex
	nextID  int
	waiting map[int]chan cdpMessage
	events  []cdpMessage
	closed  error
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// launch starts Chromium with a blank page and attaches to it.
func launch(t *testing.T, chromium string) *browser {
	t.Helper()
	toChrome, ours, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	theirs, fromChrome, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--remote-debugging-pipe", "--user-data-dir="+t.TempDir(), "about:blank")
	cmd.ExtraFiles = []*os.File{toChrome, fromChrome} // fd 3 and fd 4
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	toChrome.Close()
	fromChrome.Close()
	b := &browser{t: t, w: ours, waiting: map[int]chan cdpMessage{}}
	done := make(chan struct{})
	go b.read(theirs, done)
	t.Cleanup(func() {
		_ = ours.Close()
		cancel()
		_ = cmd.Wait()
		<-done
		if t.Failed() {
			t.Logf("chromium's stderr:\n%s", stderr.String())
		}
	})

	var created struct {
		TargetID string `json:"targetId"`
	}
	b.call(t, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &created)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	b.call(t, "", "Target.attachToTarget", map[string]any{"targetId": created.TargetID, "flatten": true}, &attached)
	b.session = attached.SessionID
	b.call(t, b.session, "Page.enable", nil, nil)
	return b
}

func (b *browser) read(r *os.File, done chan struct{}) {
	defer close(done)
	br := bufio.NewReader(r)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			b.closed = err
			for id, ch := range b.waiting {
				close(ch)
				delete(b.waiting, id)
			}
			b.mu.Unlock()
			return
		}
		var m cdpMessage
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if ch, ok := b.waiting[m.ID]; ok && m.ID != 0 {
			delete(b.waiting, m.ID)
			ch <- m
		} else if m.Method != "" {
			b.events = append(b.events, m)
		}
		b.mu.Unlock()
	}
}

// call sends one command and decodes its result into out (if non-nil).
func (b *browser) call(t *testing.T, session, method string, params any, out any) {
	t.Helper()
	b.mu.Lock()
	if b.closed != nil {
		b.mu.Unlock()
		t.Fatalf("%s: chromium went away: %v", method, b.closed)
	}
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.w.Write(append(raw, 0)); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	select {
	case m, ok := <-ch:
		switch {
		case !ok:
			t.Fatalf("%s: chromium went away", method)
		case m.Error != nil:
			t.Fatalf("%s: %s", method, m.Error.Message)
		case out != nil:
			if err := json.Unmarshal(m.Result, out); err != nil {
				t.Fatalf("%s: %v", method, err)
			}
		}
	case <-time.After(30 * time.Second): // a guard against a hang
		t.Fatalf("%s: no answer", method)
	}
}

// eval runs expression in the page and returns its value as JSON.
func (b *browser) eval(t *testing.T, expression string) json.RawMessage {
	t.Helper()
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	b.call(t, b.session, "Runtime.evaluate", map[string]any{"expression": expression, "returnByValue": true}, &res)
	if res.ExceptionDetails != nil {
		t.Fatalf("evaluating %s: %s %s", expression, res.ExceptionDetails.Text, res.ExceptionDetails.Exception.Description)
	}
	return res.Result.Value
}

func (b *browser) navigate(t *testing.T, url string) {
	t.Helper()
	b.mu.Lock()
	b.events = nil
	b.mu.Unlock()
	var res struct {
		ErrorText string `json:"errorText"`
	}
	b.call(t, b.session, "Page.navigate", map[string]any{"url": url}, &res)
	if res.ErrorText != "" {
		t.Fatalf("navigating to %s: %s", url, res.ErrorText)
	}
	b.waitFor(t, "the page loads", func(href, _ string) bool { return href == url })
}

// waitFor polls the page until cond holds for its URL and markup.
func (b *browser) waitFor(t *testing.T, what string, cond func(href, html string) bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // a guard against a hang
	for {
		var state struct {
			Href, Ready, HTML string
		}
		raw := b.eval(t, `JSON.stringify({Href: location.href, Ready: document.readyState, HTML: document.documentElement ? document.documentElement.outerHTML : ""})`)
		var s string
		if json.Unmarshal(raw, &s) == nil && json.Unmarshal([]byte(s), &state) == nil &&
			state.Ready == "complete" && cond(state.Href, state.HTML) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s; the browser is at %s:\n%s", what, state.Href, state.HTML)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *browser) html(t *testing.T) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(b.eval(t, `document.documentElement.outerHTML`), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// click presses and releases the left mouse button over the element's
// centre, as a person would: the page's own handling (a form's submit)
// does the rest.
func (b *browser) click(t *testing.T, selector string) {
	t.Helper()
	raw := b.eval(t, fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return {x: r.x + r.width/2, y: r.y + r.height/2}; })()`, selector))
	var at struct{ X, Y float64 }
	if err := json.Unmarshal(raw, &at); err != nil || at.X == 0 {
		t.Fatalf("no %s on the page (%s)", selector, raw)
	}
	for _, typ := range []string{"mousePressed", "mouseReleased"} {
		b.call(t, b.session, "Input.dispatchMouseEvent", map[string]any{"type": typ, "x": at.X, "y": at.Y, "button": "left", "clickCount": 1}, nil)
	}
}
