package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
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
)

const token = "cmd-test-token-91ab"

// syncBuffer is a bytes.Buffer safe to write from the server while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// query posts a small document and returns the status and body.
func query(t *testing.T, url, auth string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"query":"query getProjects($name: String!) { projects(where: {name: {_eq: $name}}) { id } }","variables":{"name":"x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// listenURL reads the first line of r and returns the URL it announces.
func listenURL(t *testing.T, r io.Reader) string {
	t.Helper()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the listening line: %v", err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "cloudsim listening on ")
	if !ok || !strings.HasSuffix(url, "/v1/graphql") || strings.HasSuffix(url, ":0/v1/graphql") {
		t.Fatalf("listening line = %q", line)
	}
	return url
}

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-task-duration", "1ms", "-fail-task", "shop/check-healthz=boom"},
			env(map[string]string{"HASURA_CLOUD_ACCESS_TOKEN": token}), outW, &stderr)
		outW.Close()
	}()
	url := listenURL(t, outR)
	go io.Copy(io.Discard, outR)

	status, body := query(t, url, "pat "+token)
	if status != 200 || body != `{"data":{"projects":[]}}` {
		t.Errorf("query: %d %s", status, body)
	}
	// As the real Cloud: a wrong token is HTTP 200 with the anonymous
	// role's empty schema.
	if status, body := query(t, url, "pat wrong"); status != 200 || !strings.Contains(body, `field \"projects\" not found in type: 'query_root'`) {
		t.Errorf("wrong token: %d %s", status, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	logs := stderr.String()
	if !strings.Contains(logs, "op=projects status=200") || !strings.Contains(logs, "error_code=validation-failed") ||
		!strings.Contains(logs, "cloudsim stopped") {
		t.Errorf("logs:\n%s", logs)
	}
	if strings.Contains(logs, token) {
		t.Errorf("the token leaked into the logs:\n%s", logs)
	}
}

func TestRunRejectsBadConfiguration(t *testing.T) {
	cases := []struct {
		args   []string
		env    map[string]string
		substr string
	}{
		{nil, nil, "no access token: pass -pat or set HASURA_CLOUD_ACCESS_TOKEN"},
		{[]string{"-pat", "x", "-fault-rate", "2"}, nil, "-fault-rate"},
		{[]string{"-pat", "x", "-task-duration", "0s"}, nil, "must be positive"},
		{[]string{"-pat", "x", "-fail-task", "nonsense"}, nil, "[app/]task=error"},
		{[]string{"-pat", "x", "extra"}, nil, "unexpected arguments"},
		{[]string{"-addr", "256.0.0.1:1"}, map[string]string{"HASURA_CLOUD_ACCESS_TOKEN": "x"}, "256.0.0.1"},
	}
	for _, c := range cases {
		var stderr syncBuffer
		err := run(context.Background(), c.args, env(c.env), io.Discard, &stderr)
		if err == nil || !strings.Contains(err.Error()+stderr.String(), c.substr) {
			t.Errorf("%v: err %v, stderr %s", c.args, err, stderr.String())
		}
	}
	var u usageError
	if err := run(context.Background(), nil, env(nil), io.Discard, io.Discard); !errors.As(err, &u) {
		t.Errorf("missing token should be a usage error, got %T", err)
	}
}

func TestFailTaskFlag(t *testing.T) {
	var f failTasks
	for _, v := range []string{"apply-migration=relation exists", "shop/check-healthz=a=b"} {
		if err := f.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if len(f) != 2 || f[0].App != "" || f[0].Task != "apply-migration" || f[1].App != "shop" || f[1].Error != "a=b" {
		t.Errorf("parsed %+v", f)
	}
}

// TestBinaryExitsZeroOnSIGTERM builds the command, runs it as a user would
// and stops it with SIGTERM.
func TestBinaryExitsZeroOnSIGTERM(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	bin := filepath.Join(t.TempDir(), "cloudsim")
	build := exec.Command(goBin, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "HASURA_CLOUD_ACCESS_TOKEN="+token)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	url := listenURL(t, stdout)
	if status, body := query(t, url, "pat "+token); status != 200 || !strings.Contains(body, `"projects":[]`) {
		t.Errorf("query: %d %s", status, body)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("exit: %v\nstderr:\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the binary did not stop after SIGTERM")
	}
	if strings.Contains(stderr.String(), token) {
		t.Errorf("the token leaked into stderr")
	}
}
