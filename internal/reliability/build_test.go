package reliability

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// binDir holds the binaries this package's tests build; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hasura-preview-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// onceBin is a command built at most once per test binary: the parallel
// suites that need it wait for the one build.
type onceBin struct {
	once sync.Once
	path string
	err  error
}

func (b *onceBin) get(t *testing.T, pkg string) string {
	t.Helper()
	b.once.Do(func() {
		root, err := ModuleRoot()
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(binDir, filepath.Base(pkg))
		b.err = Build(context.Background(), root, pkg, b.path)
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

var serviceBin, actionBin onceBin

// builtService is cmd/webhook as the Dockerfile builds it.
func builtService(t *testing.T) string { return serviceBin.get(t, "./cmd/webhook") }

// builtAction is cmd/action as the release workflow builds it.
func builtAction(t *testing.T) string { return actionBin.get(t, "./cmd/action") }
