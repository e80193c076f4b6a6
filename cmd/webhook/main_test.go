package main

// Subprocess tests of the built binary: the sandbox as the README runs it,
// exit codes, SIGTERM, and a SIGKILL in the middle of a build.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/sandbox"
)

// binary is the command built once for every test.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hasura-preview-webhook-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "hasura-preview-webhook")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the binary:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running binary.
type proc struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	mu     sync.Mutex
	stderr []string
	url    chan string
	done   chan struct{}
	err    error
}

// spawn starts the binary with exactly env (plus PATH and a private
// TMPDIR and HOME), never the test's own environment.
func spawn(t *testing.T, env map[string]string, args ...string) *proc {
	t.Helper()
	tmp := t.TempDir()
	cmd := exec.Command(binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + tmp, "HOME=" + tmp}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &proc{cmd: cmd, url: make(chan string, 1), done: make(chan struct{})}
	cmd.Stdout = &p.stdout
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(errPipe)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stderr = append(p.stderr, line)
			p.mu.Unlock()
			var rec struct{ Msg, URL string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				p.url <- rec.URL
			}
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s", p.stdout.String(), p.log())
		}
	})
	return p
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.stderr, "\n")
}

// wait returns the exit code, failing the test after two minutes (a
// guard against a hang, not a speed requirement).
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the process did not exit")
	}
	var exit *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &exit):
		return exit.ExitCode()
	}
	t.Fatalf("waiting for the process: %v", p.err)
	return -1
}

// listening returns the service's base URL from its "listening" log line.
func (p *proc) listening(t *testing.T) string {
	t.Helper()
	select {
	case u := <-p.url:
		return u
	case <-p.done:
		t.Fatalf("the process exited before listening: %v", p.err)
	case <-time.After(time.Minute):
		t.Fatal("the process did not start listening")
	}
	return ""
}

// TestSandbox runs the README's main command to completion: the comment
// shows the endpoint, then says deleted, and the process exits 0.
func TestSandbox(t *testing.T) {
	p := spawn(t, map[string]string{}, "-sandbox", "-sandbox-exit")
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	out := p.stdout.String()
	const endpoint = "https://hello-world-pr-2.hasura.app/v1/graphql"
	sections := strings.Split(out, "---------- PR comment ")
	if len(sections) < 3 {
		t.Fatalf("want several comment versions, got %d sections", len(sections)-1)
	}
	shown := false
	for _, s := range sections[1:] {
		if strings.Contains(s, "is ready") && strings.Contains(s, endpoint) {
			shown = true
		}
	}
	if !shown {
		t.Errorf("no comment version shows the ready preview with %s", endpoint)
	}
	last := sections[len(sections)-1]
	if !strings.Contains(last, "was deleted") {
		t.Errorf("the last comment version does not say deleted:\n%s", last)
	}
	for _, want := range []string{"pull_request.opened", "pull_request.synchronize", "pull_request.closed",
		"success → " + endpoint, "replay done", "sandbox: dashboard: http://127.0.0.1:"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q", want)
		}
	}
	if strings.Contains(out+p.log(), "BEGIN RSA PRIVATE KEY") {
		t.Error("the sandbox key was printed")
	}
}

func TestExitCodes(t *testing.T) {
	t.Run("missing config", func(t *testing.T) {
		p := spawn(t, map[string]string{"WORKERS": "many"})
		if code := p.wait(t); code != 2 {
			t.Fatalf("exit code %d, want 2", code)
		}
		for _, v := range []string{"HASURA_CLOUD_ACCESS_TOKEN", "WORKERS"} {
			if !strings.Contains(p.log(), v) {
				t.Errorf("stderr does not name %s:\n%s", v, p.log())
			}
		}
	})
	// No App settings is setup mode; some of them, with nothing stored, is
	// a mistake named at once.
	t.Run("part of the App", func(t *testing.T) {
		p := spawn(t, map[string]string{"HASURA_CLOUD_ACCESS_TOKEN": "x", "GITHUB_APP_ID": "5",
			"DATABASE_URL": filepath.Join(t.TempDir(), "hp.db"), "LISTEN_ADDR": "127.0.0.1:0"})
		if code := p.wait(t); code != 2 {
			t.Fatalf("exit code %d, want 2", code)
		}
		for _, v := range []string{"GITHUB_APP_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET"} {
			if !strings.Contains(p.log(), v) {
				t.Errorf("stderr does not name %s:\n%s", v, p.log())
			}
		}
	})
	t.Run("unknown flag", func(t *testing.T) {
		if code := spawn(t, nil, "-no-such-flag").wait(t); code != 2 {
			t.Fatalf("exit code %d, want 2", code)
		}
	})
	t.Run("help", func(t *testing.T) {
		p := spawn(t, nil, "-h")
		if code := p.wait(t); code != 0 {
			t.Fatalf("exit code %d, want 0", code)
		}
		if !strings.Contains(p.log(), "DATABASE_URL") {
			t.Errorf("-h does not list the settings:\n%s", p.log())
		}
	})
}

// sims run in the test process; the binary reaches them over loopback.
type sims struct {
	cloud *cloudsim.Server
	gh    *ghsim.Server
	env   map[string]string
}

const (
	appID  = 31
	pat    = "crash-pat"
	secret = "crash-secret"
)

func newSims(t *testing.T, dbPath string) *sims {
	t.Helper()
	// A creation of a few seconds leaves time to kill the process mid-build.
	cs, cloudURL := cloudsim.NewTestServer(t, cloudsim.Options{PAT: pat, CreationDuration: 4 * time.Second, TaskDuration: 200 * time.Millisecond})
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	gh, ghURL := ghsim.NewTestServer(t, ghsim.Options{})
	sandbox.Seed(gh, appID, &key.PublicKey, sandbox.FakeSHA("crash head"))
	return &sims{cloud: cs, gh: gh, env: map[string]string{
		"HASURA_CLOUD_ACCESS_TOKEN": pat,
		"HASURA_CLOUD_ENDPOINT":     cloudURL,
		"GITHUB_APP_ID":             fmt.Sprint(appID),
		"GITHUB_APP_PRIVATE_KEY":    string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})),
		"GITHUB_WEBHOOK_SECRET":     secret,
		"GITHUB_API_URL":            ghURL,
		"DATABASE_URL":              dbPath,
		"LISTEN_ADDR":               "127.0.0.1:0",
		"CLOUD_RATE_LIMIT":          "100",
		"CLOUD_RATE_BURST":          "100",
	}}
}

func deliver(t *testing.T, url string, body []byte) {
	t.Helper()
	status, answer, err := sandbox.Post(context.Background(), nil, url+"/webhook", []byte(secret),
		sandbox.Delivery{Event: "pull_request", Body: body, AppID: appID})
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("delivery: %d %s %v", status, answer, err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCrashResumesBuild kills the service with SIGKILL while the Cloud
// builds the preview, restarts it on the same SQLite file, and checks the
// build completes without a second create or a second comment.
func TestCrashResumesBuild(t *testing.T) {
	db := filepath.Join(t.TempDir(), "state.db")
	s := newSims(t, db)
	first := spawn(t, s.env)
	url := first.listening(t)
	body, err := sandbox.PullRequest{Action: "opened", SHA: sandbox.FakeSHA("crash head"), UpdatedAt: time.Now()}.Payload()
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, url, body)

	// Building: the Cloud took the create and the service has come back to
	// read the job, so the job id is in the database.
	eventually(t, "the Cloud is building", func() bool {
		return s.cloud.Count(cloud.OpCreatePreviewApp) == 1 && s.cloud.Count(cloud.OpJob) >= 1
	})
	if jobs := s.cloud.Jobs("hello-world-pr-2"); len(jobs) == 0 || jobs[len(jobs)-1].Status == "success" {
		t.Fatalf("the build finished before the kill (%d jobs): lengthen CreationDuration", len(jobs))
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.wait(t)

	second := spawn(t, s.env)
	url = second.listening(t)
	eventually(t, "the preview is ready", func() bool {
		cs := s.gh.Comments(sandbox.Owner, sandbox.Repo, sandbox.PRNumber)
		return len(cs) >= 1 && strings.Contains(cs[len(cs)-1].Body, "is ready")
	})
	if n := s.cloud.Count(cloud.OpCreatePreviewApp); n != 1 {
		t.Errorf("cloudsim counted %d createGitHubPreviewApp, want exactly 1", n)
	}
	if cs := s.gh.Comments(sandbox.Owner, sandbox.Repo, sandbox.PRNumber); len(cs) != 1 {
		t.Errorf("%d comments, want exactly 1", len(cs))
	}
	if ps := s.cloud.Projects(); len(ps) != 1 || ps[0].Builds != 1 {
		t.Errorf("projects %+v, want one built once", ps)
	}
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("readyz after the restart: %d", resp.StatusCode)
	}

	// SIGTERM is a clean exit.
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := second.wait(t); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d", code)
	}
	if !strings.Contains(second.log(), `"msg":"stopped"`) {
		t.Errorf("no clean stop in the log")
	}
	for _, secretValue := range []string{pat, secret, "BEGIN RSA PRIVATE KEY"} {
		if strings.Contains(first.log()+second.log(), secretValue) {
			t.Errorf("the log carries a secret (%.12s...)", secretValue)
		}
	}
}
