package reliability

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	serviceOnce sync.Once
	serviceBin  string
	serviceErr  error
)

// builtService builds cmd/webhook once per test binary.
func builtService(t *testing.T) string {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	serviceOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hasura-preview-reliability-")
		if err != nil {
			serviceErr = err
			return
		}
		serviceBin = filepath.Join(dir, "hasura-preview-webhook")
		serviceErr = BuildService(context.Background(), root, serviceBin)
	})
	if serviceErr != nil {
		t.Fatal(serviceErr)
	}
	return serviceBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, bin := range []string{serviceBin, actionBin} {
		if bin != "" {
			os.RemoveAll(filepath.Dir(bin))
		}
	}
	os.Exit(code)
}

func reportProblems(t *testing.T, rep *ServiceReport) {
	t.Helper()
	t.Log(rep)
	if !rep.OK() {
		t.Fatalf("problems:\n%s\nleaks: %v; installation tokens in logs: %d", strings.Join(rep.Problems, "\n"), rep.Leaks, rep.InstallationTokens)
	}
}

// TestCrashStorm: 10 PR lifecycles while the service is SIGKILLed 3 times.
func TestCrashStorm(t *testing.T) {
	t.Parallel() // mostly waiting on subprocesses and poll intervals
	rep, err := CrashStorm(context.Background(), ServiceStormConfig{Bin: builtService(t), Dir: t.TempDir(),
		Lifecycles: 10, Kills: 3, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	reportProblems(t, rep)
	if rep.Kills != 3 || rep.Starts != 4 || len(rep.Closed) == 0 || len(rep.Open) == 0 {
		t.Fatalf("not the storm asked for: %s", rep)
	}
}

// TestServiceFaultStorm: PR lifecycles through the service while 30% of
// Cloud requests fail.
func TestServiceFaultStorm(t *testing.T) {
	t.Parallel() // mostly waiting on subprocesses and poll intervals
	rep, err := ServiceFaultStorm(context.Background(), ServiceStormConfig{Bin: builtService(t), Dir: t.TempDir(),
		Lifecycles: 6, FaultRate: 0.3, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	reportProblems(t, rep)
	if rep.Faulted < rep.Requests/5 {
		t.Fatalf("not the storm asked for: %s", rep)
	}
}
