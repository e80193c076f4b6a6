package jobs

import (
	"os"
	"strings"
	"testing"
)

// River's driver executors are internal API (river_internal.go): this test
// fails on any River upgrade so that someone re-reads those calls first.
func TestRiverInternalsFenced(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, line := range strings.Split(string(mod), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[0], "github.com/riverqueue/river") {
			continue
		}
		found++
		if f[1] != riverVerified {
			t.Errorf("%s is %s but river_internal.go was checked against %s: re-read its executor calls against the new release, then update riverVerified", f[0], f[1], riverVerified)
		}
	}
	if found == 0 {
		t.Fatal("go.mod requires no River module")
	}
}
