package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// fuzzTarget is one func FuzzX(f *testing.F) in a package.
type fuzzTarget struct {
	pkg  string // ./internal/webhook
	name string // FuzzDecode
}

var fuzzFunc = regexp.MustCompile(`(?m)^func (Fuzz\w+)\(\w+ \*testing\.F\)`)

// findFuzzTargets lists every fuzz target under root, so that a target added
// later is run without editing this program.
func findFuzzTargets(root string) ([]fuzzTarget, error) {
	var out []fuzzTarget
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		for _, m := range fuzzFunc.FindAllSubmatch(src, -1) {
			out = append(out, fuzzTarget{pkg: "./" + filepath.ToSlash(rel), name: string(m[1])})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].pkg != out[j].pkg {
			return out[i].pkg < out[j].pkg
		}
		return out[i].name < out[j].name
	})
	return out, err
}

var fuzzProgress = regexp.MustCompile(`execs: (\d+)`)

// fuzzOne runs one target for d and returns its execs and, on failure, the
// tail of its output.
func fuzzOne(ctx context.Context, root string, t fuzzTarget, d time.Duration) (execs string, failure string, err error) {
	// The bound: the fuzz time, plus building the test binary and running
	// the seed corpus first.
	ctx, cancel := context.WithTimeout(ctx, d+5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-run=^$", "-fuzz=^"+t.name+"$", "-fuzztime="+d.String(), t.pkg)
	cmd.Dir = root
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return "", "", err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return "", "", err
	}
	var lines []string
	sc := bufio.NewScanner(outPipe)
	for sc.Scan() {
		line := sc.Text()
		lines = append(lines, line)
		if m := fuzzProgress.FindStringSubmatch(line); m != nil {
			execs = m[1]
		}
	}
	werr := cmd.Wait()
	if werr != nil {
		tail := lines[max(len(lines)-15, 0):]
		return execs, strings.Join(tail, "\n"), nil
	}
	return execs, "", nil
}

func runFuzz(ctx context.Context, cfg *config, d time.Duration, out io.Writer) error {
	targets, err := findFuzzTargets(cfg.repoRoot)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "## Fuzzing")
	fmt.Fprintln(out)
	fmt.Fprintf(out, "Every `func Fuzz…` in the repository, each run as `go test -run=^$ -fuzz=^Name$ -fuzztime=%s <pkg>` (GOMAXPROCS workers).\n\n", d)
	var rows [][]string
	var failures []string
	for _, t := range targets {
		fmt.Fprintf(os.Stderr, "bench: fuzzing %s %s for %s\n", t.pkg, t.name, d)
		execs, fail, err := fuzzOne(ctx, cfg.repoRoot, t, d)
		if err != nil {
			return err
		}
		result := "no failure"
		if fail != "" {
			result = "**FAILED**"
			failures = append(failures, fmt.Sprintf("### %s %s\n\n```\n%s\n```\n", t.pkg, t.name, fail))
		}
		if execs == "" {
			execs = "?"
		}
		rows = append(rows, []string{"`" + t.pkg + "`", "`" + t.name + "`", execs, result})
	}
	table(out, []string{"Package", "Target", "Execs", "Result"}, rows)
	for _, f := range failures {
		fmt.Fprintln(out, f)
	}
	if len(failures) > 0 {
		return fmt.Errorf("%d fuzz targets failed (their inputs are in the packages' testdata/fuzz)", len(failures))
	}
	return nil
}
