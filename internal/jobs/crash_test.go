package jobs

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
)

const crashEnv = "HASURA_PREVIEW_JOBS_CRASH_DB"

// TestCrashHelper is the process that dies mid-job in
// TestJobOfKilledProcessRunsAtNextStart; on its own it does nothing.
func TestCrashHelper(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("only runs as the helper process of TestJobOfKilledProcessRunsAtNextStart")
	}
	st := storetest.Open(t, path, store.Options{})
	c, err := New(st, recFunc(func(ctx context.Context, key string) (time.Duration, error) {
		os.Stdout.WriteString("WORKING " + key + "\n")
		select {} // hang until killed, deaf to ctx, like a process about to be OOM-killed
	}), nil, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Enqueue(context.Background(), "o/r#1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {}
}

// A process killed with SIGKILL leaves its job "running" and its lease held.
// On SQLite the next process must run that job at once, not after River's
// rescuer delay (an hour here, so only the start-up rescue can pass).
func TestJobOfKilledProcessRunsAtNextStart(t *testing.T) {
	path := storetest.SQLitePath(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	working := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "WORKING o/r#1") {
				working <- true
				return
			}
		}
		working <- false
	}()
	select {
	case ok := <-working:
		if !ok {
			_ = cmd.Wait()
			t.Fatal("helper exited before working")
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("helper never started the job")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	st := storetest.Open(t, path, store.Options{})
	ran := make(chan string, 1)
	opts := testOptions()
	opts.JobTimeout, opts.RescueAfter = 30*time.Minute, time.Hour
	c := newClient(t, st, recFunc(func(ctx context.Context, key string) (time.Duration, error) {
		ran <- key
		return 0, nil
	}), nil, opts)
	if s := stats(t, c); s["running"] != 1 {
		t.Fatalf("the killed process left %v, want one running job", s)
	}
	start(t, c)
	select {
	case key := <-ran:
		if key != "o/r#1" {
			t.Fatalf("ran %q", key)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the job of the killed process did not run")
	}
}
