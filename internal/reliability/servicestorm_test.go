package reliability

import (
	"context"
	"strings"
	"testing"
)

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
