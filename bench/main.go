// Command bench measures hasura-preview on this machine and runs its long
// reliability checks. Every figure it prints stands beside a baseline
// measured in the same run (machines are noisy, ratios travel better than
// absolute numbers). All traffic stays on loopback; every load loop is
// bounded in count and in time.
//
//	go run ./bench -quick            # every benchmark, small counts (< 2 min)
//	go run ./bench                   # every benchmark, full counts (< 15 min)
//	go run ./bench -only intake,polling
//	go run ./bench -soak 10m         # fault and crash storms for 10 minutes
//	go run ./bench -fuzz 30s         # every fuzz target for 30 s each
//
// HASURA_PREVIEW_TEST_POSTGRES_URL names a PostgreSQL server for the
// PostgreSQL rows (each run gets a database of its own, dropped after);
// unset, those rows are skipped and say so. Results go to stdout as
// Markdown, ready for BENCHMARKS.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/reliability"
)

// benchmark is one section of the report.
type benchmark struct {
	name string
	run  func(ctx context.Context, cfg *config, out io.Writer) error
}

var benchmarks = []benchmark{
	{"intake", runIntake},
	{"memory", runIntakeMemory},
	{"polling", runPolling},
	{"scale", runScale},
	{"action", runActionStart},
}

// config is what the flags say.
type config struct {
	quick    bool
	pgURL    string
	repoRoot string
	command  string // how this run was started, for the report
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	quick := flag.Bool("quick", false, "small counts: every benchmark in under about two minutes")
	only := flag.String("only", "", "comma-separated benchmarks to run (intake, memory, polling, scale, action); default all")
	soak := flag.Duration("soak", 0, "instead of the benchmarks, run the reliability storms for this long (e.g. 10m, at most 15m)")
	fuzz := flag.Duration("fuzz", 0, "instead of the benchmarks, run every fuzz target for this long each")
	outPath := flag.String("o", "", "also write the Markdown report to this file")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root, err := reliability.ModuleRoot()
	if err != nil {
		return err
	}
	cfg := &config{quick: *quick, pgURL: os.Getenv("HASURA_PREVIEW_TEST_POSTGRES_URL"), repoRoot: root,
		command: "go run ./bench " + strings.Join(os.Args[1:], " ")}

	var out io.Writer = os.Stdout
	if *outPath != "" {
		f, err := os.Create(*outPath)
		if err != nil {
			return err
		}
		defer f.Close()
		out = io.MultiWriter(os.Stdout, f)
	}
	fmt.Fprintf(out, "<!-- %s -->\n%s %s\n\n", strings.TrimSpace(cfg.command), machine(), revision(root))

	switch {
	case *fuzz > 0:
		return runFuzz(ctx, cfg, *fuzz, out)
	case *soak > 0:
		if *soak > 15*time.Minute {
			return fmt.Errorf("-soak %s: at most 15m", *soak)
		}
		return runSoak(ctx, cfg, *soak, out)
	}
	selected := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			selected[n] = true
		}
	}
	for n := range selected {
		if !known(n) {
			return fmt.Errorf("-only: unknown benchmark %q", n)
		}
	}
	start := time.Now()
	var failed []string
	for _, b := range benchmarks {
		if len(selected) > 0 && !selected[b.name] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		t0 := time.Now()
		fmt.Fprintf(os.Stderr, "bench: %s ...\n", b.name)
		if err := b.run(ctx, cfg, out); err != nil {
			fmt.Fprintf(out, "\n**%s failed:** %v\n\n", b.name, err)
			failed = append(failed, b.name)
		}
		fmt.Fprintf(os.Stderr, "bench: %s done in %s\n", b.name, time.Since(t0).Round(time.Second))
	}
	fmt.Fprintf(out, "_Total wall time: %s._\n", time.Since(start).Round(time.Second))
	if len(failed) > 0 {
		return fmt.Errorf("failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

func known(name string) bool {
	for _, b := range benchmarks {
		if b.name == name {
			return true
		}
	}
	return false
}

// machine is the line every report starts with.
func machine() string {
	return fmt.Sprintf("Machine: %d CPUs (nproc), %s, %s, %s; run %s.", runtime.NumCPU(), unameM(), runtime.Version(),
		cpuModel(), time.Now().UTC().Format("2006-01-02 15:04 MST"))
}

func unameM() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return runtime.GOARCH
	}
	var b strings.Builder
	for _, c := range u.Machine {
		if c == 0 {
			break
		}
		b.WriteByte(byte(c))
	}
	return b.String()
}

func cpuModel() string {
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// revision names the commit measured, and the packages with uncommitted
// changes (a shared working tree may hold someone's edit in progress).
func revision(root string) string {
	head, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "Commit: unknown (not a git checkout)."
	}
	out := "Commit " + strings.TrimSpace(string(head))
	st, _ := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output()
	dirs := map[string]bool{}
	var list []string
	for _, line := range strings.Split(strings.TrimRight(string(st), "\n"), "\n") {
		if len(line) < 4 {
			continue
		}
		d := filepath.Dir(strings.TrimSpace(line[3:]))
		if !dirs[d] {
			dirs[d] = true
			list = append(list, d)
		}
	}
	if len(list) > 0 {
		out += " with uncommitted changes in " + strings.Join(list, ", ")
	}
	return out + "."
}

// buildTemp builds the package pkg into a new temporary directory: the
// directory, the binary, and the cleanup that removes both.
func buildTemp(ctx context.Context, cfg *config, pattern, pkg, name string) (dir, bin string, cleanup func(), err error) {
	if dir, err = os.MkdirTemp("", pattern); err != nil {
		return "", "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	bin = filepath.Join(dir, name)
	if err := reliability.Build(ctx, cfg.repoRoot, pkg, bin); err != nil {
		cleanup()
		return "", "", nil, err
	}
	return dir, bin, cleanup, nil
}
