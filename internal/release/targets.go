// Package release is the released action as GitHub runs it, for the tests
// and the benchmark that check it on this machine: the targets that
// .github/workflows/release.yml builds, action.yml's composite step run
// under bash with the environment a runner gives it, and a stand-in for the
// GitHub release the step downloads its binary from.
package release

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Target is one binary of a release: what release.yml's binaries matrix
// builds, under the asset name action.sh downloads.
type Target struct {
	GOOS, GOARCH, Asset string
}

// Targets reads the binaries job's matrix of .github/workflows/release.yml
// under the module root.
func Targets(root string) ([]Target, error) {
	raw, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "release.yml"))
	if err != nil {
		return nil, err
	}
	var wf struct {
		Jobs map[string]struct {
			Strategy struct {
				Matrix struct {
					Include []map[string]string `yaml:"include"`
				} `yaml:"matrix"`
			} `yaml:"strategy"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		return nil, fmt.Errorf("release.yml: %w", err)
	}
	job, ok := wf.Jobs["binaries"]
	if !ok {
		return nil, fmt.Errorf("release.yml has no binaries job")
	}
	var ts []Target
	for i, m := range job.Strategy.Matrix.Include {
		t := Target{GOOS: m["goos"], GOARCH: m["goarch"], Asset: m["asset"]}
		if t.GOOS == "" || t.GOARCH == "" || t.Asset == "" {
			return nil, fmt.Errorf("release.yml: binaries matrix entry %d lacks goos, goarch or asset: %v", i, m)
		}
		ts = append(ts, t)
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("release.yml: the binaries job has no matrix.include")
	}
	return ts, nil
}

// BuildAsset builds cmd/action for t into out the way release.yml's build
// step does: static, trimmed paths, version stamped into main.version.
func BuildAsset(ctx context.Context, root string, t Target, version, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w -X main.version="+version, "-o", out, "./cmd/action")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+t.GOOS, "GOARCH="+t.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s: %v\n%s", t.Asset, err, b)
	}
	return nil
}

// Checksums is dist/checksums.txt for assets, as `sha256sum` writes it in
// the release workflow: "<hex>  <name>" a line, sorted by name.
func Checksums(assets map[string][]byte) []byte {
	var b strings.Builder
	names := make([]string, 0, len(assets))
	for n := range assets {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "%x  %s\n", sha256.Sum256(assets[n]), n)
	}
	return []byte(b.String())
}
