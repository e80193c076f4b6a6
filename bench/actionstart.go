package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/release"
	"github.com/hasura-preview/hasura-preview/internal/reliability"
)

const (
	actionPAT   = "hcpat_BENCH_action_9b7d"
	actionToken = "ghs_BENCHactiontoken_2e6f"
	// maxActionBytes is the size target of the static binary.
	maxActionBytes = 20 << 20
)

// firstRequest is cloudsim behind a handler that signals the arrival of the
// first GraphQL request.
type firstRequest struct {
	sim  http.Handler
	mu   sync.Mutex
	seen chan time.Time
}

// ServeHTTP notes the arrival time of the first GraphQL request since arm.
func (f *firstRequest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == cloudsim.DefaultPath {
		now := time.Now()
		f.mu.Lock()
		if f.seen != nil {
			f.seen <- now
			f.seen = nil
		}
		f.mu.Unlock()
	}
	f.sim.ServeHTTP(w, r)
}

func (f *firstRequest) arm() chan time.Time {
	ch := make(chan time.Time, 1)
	f.mu.Lock()
	f.seen = ch
	f.mu.Unlock()
	return ch
}

// timeToFirstRequest starts cmd and returns the time from its start to its
// first Cloud request, then kills it.
func timeToFirstRequest(cmd *exec.Cmd, fr *firstRequest) (time.Duration, string, error) {
	seen := fr.arm()
	var outBuf strings.Builder
	cmd.Stdout, cmd.Stderr = &outBuf, &outBuf
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, "", err
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	select {
	case at := <-seen:
		return at.Sub(t0), "", nil
	case <-time.After(15 * time.Second):
		return 0, outBuf.String(), fmt.Errorf("no Cloud request within 15 s")
	}
}

// startToExit runs argv to completion and returns its wall time.
func startToExit(ctx context.Context, argv ...string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	t0 := time.Now()
	err := cmd.Run()
	d := time.Since(t0)
	if _, ok := err.(*exec.ExitError); ok {
		err = nil // a refusal is still a full start and exit
	}
	return d, err
}

func runActionStart(ctx context.Context, cfg *config, out io.Writer) error {
	runs := map[bool]int{true: 15, false: 50}[cfg.quick]
	dir, bin, cleanup, err := buildTemp(ctx, cfg, "hasura-preview-bench-action-", "./cmd/action", "hasura-preview-action")
	if err != nil {
		return err
	}
	defer cleanup()
	fi, err := os.Stat(bin)
	if err != nil {
		return err
	}

	sim, err := cloudsim.New(cloudsim.Options{PAT: actionPAT})
	if err != nil {
		return err
	}
	fr := &firstRequest{sim: sim}
	csrv, err := serve(fr)
	if err != nil {
		return err
	}
	defer csrv.Close()
	gh := ghsim.New(ghsim.Options{Prefix: "/api/v3/"})
	gh.AddRepo("Codertocat", "Hello-World")
	gh.AddPull("Codertocat", "Hello-World", ghsim.PullSpec{Number: 2, HeadRef: "changes",
		HeadSHA: reliability.FixtureHeadSHA, User: "Codertocat", Title: "Update the README with new information."})
	gh.AddToken(actionToken, ghsim.TokenSpec{Label: "GITHUB_TOKEN", Repos: []string{"Codertocat/Hello-World"},
		Permissions: map[string]string{"contents": "read", "pull_requests": "write", "deployments": "write"}})
	gsrv, err := serve(gh)
	if err != nil {
		return err
	}
	defer gsrv.Close()

	measure := func(reporting bool) (latencies, error) {
		var l latencies
		for i := range runs {
			rd := filepath.Join(dir, fmt.Sprintf("run-%v-%d", reporting, i))
			if err := os.Mkdir(rd, 0o755); err != nil {
				return nil, err
			}
			step, err := reliability.ActionRunner{Dir: rd, GitHubAPI: gsrv.URL + "/api/v3", GitHubToken: actionToken,
				CloudPAT: actionPAT, Inputs: map[string]string{"hasuraCloudGraphQLEndpoint": csrv.URL + cloudsim.DefaultPath,
					"region": "us-west-1", "tier": "cloud_free", "cloud": "aws", "delete": "auto", "timeout": "20m",
					"comment": fmt.Sprint(reporting), "deployment": fmt.Sprint(reporting)}}.Prepare()
			if err != nil {
				return nil, err
			}
			cmd := exec.CommandContext(ctx, bin)
			cmd.Env = step.Env
			d, logs, err := timeToFirstRequest(cmd, fr)
			if err != nil {
				return nil, fmt.Errorf("%w; action output:\n%s", err, logs)
			}
			l = append(l, d)
		}
		return l, nil
	}
	bare, err := measure(false)
	if err != nil {
		return err
	}
	withGH, err := measure(true)
	if err != nil {
		return err
	}
	var self latencies
	for range runs {
		d, err := startToExit(ctx, bin)
		if err != nil {
			return err
		}
		self = append(self, d)
	}
	var node latencies
	nodeNote := ""
	if nodeBin, err := exec.LookPath("node"); err != nil {
		nodeNote = "node is not installed on this machine: no Node baseline."
	} else {
		for range runs {
			d, err := startToExit(ctx, nodeBin, "-e", "0")
			if err != nil {
				return err
			}
			node = append(node, d)
		}
		if v, err := exec.CommandContext(ctx, nodeBin, "--version").Output(); err == nil {
			nodeNote = "Node " + strings.TrimSpace(string(v)) + "."
		}
	}
	nodeMed := float64(node.quantile(0.5))
	row := func(what string, l latencies) []string {
		return []string{what, ms(l.quantile(0.5)), ms(l.quantile(0.9)), ratio(float64(l.quantile(0.5)), nodeMed)}
	}
	fmt.Fprintln(out, "## 4. Action start-up and size")
	fmt.Fprintln(out)
	fmt.Fprintf(out, "The action binary built as the release builds it (`CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' ./cmd/action`, without the version stamp): **%.1f MiB** (%d bytes); target ≤ 20 MiB: %s.\n\n",
		float64(fi.Size())/(1<<20), fi.Size(), verdict(fi.Size() <= maxActionBytes))
	fmt.Fprintf(out, "%d runs each, started with the environment a runner gives the action (env, event file, file-command files, INPUT_*); the time is from `exec` to the first request reaching cloudsim on loopback (the process is then killed). Baseline: `node -e 0` from `exec` to exit, in the same run. %s\n\n", runs, nodeNote)
	rows := [][]string{
		row("action: exec → first Cloud request (comment and deployment off)", bare),
		row("action: exec → first Cloud request (comment + deployment on, ghsim)", withGH),
		row("action with no inputs: exec → exit (refuses)", self),
	}
	if len(node) > 0 {
		rows = append(rows, row("`node -e 0`: exec → exit (baseline)", node))
	}
	table(out, []string{"What", "Median", "p90", "Median vs node"}, rows)

	bareInputs := map[string]string{"hasuraCloudGraphQLEndpoint": csrv.URL + cloudsim.DefaultPath, "comment": "false",
		"deployment": "false"}
	return releasedStart(ctx, cfg, dir, fr, gsrv.URL+"/api/v3", bareInputs, bare, out)
}

// fraction prints a/b as a ratio that stays readable when it is tiny.
func fraction(a, b time.Duration) string {
	if a <= 0 || b <= 0 {
		return "–"
	}
	if r := float64(a) / float64(b); r >= 0.1 {
		return fmt.Sprintf("%.2f×", r)
	}
	return fmt.Sprintf("1/%.0f", float64(b)/float64(a))
}

// runnerOf is GitHub's runner.os and runner.arch for a Go platform.
var runnerOf = map[string]string{"linux": "Linux", "darwin": "macOS", "windows": "Windows", "amd64": "X64", "arm64": "ARM64"}

// releasedStart times action.yml's step as a runner starts it (bash, the
// download from a stand-in release, the SHA-256 check, the exec of the
// binary) to the first Cloud request, against what `image: Dockerfile`
// costs at the least on every job: compiling cmd/action with an empty
// build cache, then the binary's own exec → first request (bare).
func releasedStart(ctx context.Context, cfg *config, dir string, fr *firstRequest, githubAPI string,
	inputs map[string]string, bare latencies, out io.Writer) error {
	runs, slowRuns, coldBuilds, warmBuilds := 50, 5, 1, 3
	if cfg.quick {
		runs, slowRuns, coldBuilds, warmBuilds = 15, 3, 0, 3
	}
	const (
		repo    = "hasura-preview/hasura-preview"
		tag     = "v0.0.0-bench"
		slowBps = 10 << 20
	)
	targets, err := release.Targets(cfg.repoRoot)
	if err != nil {
		return err
	}
	var host release.Target
	for _, t := range targets {
		if t.GOOS == runtime.GOOS && t.GOARCH == runtime.GOARCH {
			host = t
		}
	}
	if host.Asset == "" {
		return fmt.Errorf("release.yml builds nothing for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	assetPath := filepath.Join(dir, host.Asset)
	if err := release.BuildAsset(ctx, cfg.repoRoot, host, tag, assetPath); err != nil {
		return err
	}
	bin, err := os.ReadFile(assetPath)
	if err != nil {
		return err
	}
	assets := map[string][]byte{host.Asset: bin}
	rel := release.NewServer(repo, tag, assets)
	rsrv, err := serve(rel)
	if err != nil {
		return err
	}
	defer rsrv.Close()
	act, err := release.LoadAction(cfg.repoRoot)
	if err != nil {
		return err
	}
	actionPath, err := release.Checkout(cfg.repoRoot, dir, repo, "v0",
		map[string][]byte{"checksums.txt": release.Checksums(assets), "version": []byte(tag + "\n")})
	if err != nil {
		return err
	}

	seq := 0
	// step runs the step once with RUNNER_TEMP at temp: a fresh one is a
	// job's first use (download), a used one its second (cached).
	step := func(temp string) (time.Duration, error) {
		seq++
		rd := filepath.Join(dir, fmt.Sprintf("released-%d", seq))
		if err := os.Mkdir(rd, 0o755); err != nil {
			return 0, err
		}
		st, err := reliability.ActionRunner{Dir: rd, GitHubAPI: githubAPI, GitHubToken: actionToken, CloudPAT: actionPAT}.Prepare()
		if err != nil {
			return 0, err
		}
		env := append(st.Env, "RUNNER_OS="+runnerOf[runtime.GOOS], "RUNNER_ARCH="+runnerOf[runtime.GOARCH],
			"RUNNER_TEMP="+temp, "GITHUB_SERVER_URL="+rsrv.URL)
		cmd, err := act.Command(ctx, release.Invocation{ActionPath: actionPath, ActionRef: "v0", ActionRepository: repo,
			With: inputs, Env: env, ScriptDir: rd})
		if err != nil {
			return 0, err
		}
		d, logs, err := timeToFirstRequest(cmd, fr)
		if err != nil {
			return 0, fmt.Errorf("released action: %w; step output:\n%s", err, logs)
		}
		return d, nil
	}
	fresh := func(n int) (latencies, error) {
		var l latencies
		for range n {
			temp, err := os.MkdirTemp(dir, "runner-temp-")
			if err != nil {
				return nil, err
			}
			d, err := step(temp)
			if err != nil {
				return nil, err
			}
			l = append(l, d)
		}
		return l, nil
	}
	first, err := fresh(runs)
	if err != nil {
		return err
	}
	rel.Throttle(slowBps)
	slow, err := fresh(slowRuns)
	if err != nil {
		return err
	}
	rel.Throttle(0)
	jobTemp, err := os.MkdirTemp(dir, "runner-temp-")
	if err != nil {
		return err
	}
	if _, err := step(jobTemp); err != nil {
		return err
	}
	var cached latencies
	for range runs {
		d, err := step(jobTemp)
		if err != nil {
			return err
		}
		cached = append(cached, d)
	}

	// The cold build takes most of a minute on an idle 2-core machine, so
	// -quick measures only the warm one; the full run measures both.
	goBuild := func(cache string) (time.Duration, error) {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, "action-baseline"), "./cmd/action")
		cmd.Dir = cfg.repoRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if cache != "" {
			cmd.Env = append(cmd.Env, "GOCACHE="+cache)
		}
		t0 := time.Now()
		if b, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("go build: %v\n%s", err, b)
		}
		return time.Since(t0), nil
	}
	var cold, warm latencies
	for range coldBuilds {
		cache, err := os.MkdirTemp(dir, "gocache-")
		if err != nil {
			return err
		}
		d, err := goBuild(cache)
		_ = os.RemoveAll(cache)
		if err != nil {
			return err
		}
		cold = append(cold, d+bare.quantile(0.5))
	}
	for range warmBuilds {
		d, err := goBuild("")
		if err != nil {
			return err
		}
		warm = append(warm, d+bare.quantile(0.5))
	}
	vs := func(l, base latencies) string {
		if len(base) == 0 {
			return "not measured (-quick)"
		}
		return fraction(l.quantile(0.5), base.quantile(0.5))
	}
	row := func(what string, l latencies) []string {
		return []string{what, ms(l.quantile(0.5)), ms(l.quantile(0.9)), vs(l, cold), vs(l, warm)}
	}
	fmt.Fprintln(out, "### The released action: step start → first Cloud request")
	fmt.Fprintln(out)
	fmt.Fprintf(out, "action.yml's composite step run as a runner runs it (`bash --noprofile --norc -eo pipefail` on the run script, the step's env from its expressions; `%s`, %.1f MiB): bash, `action.sh`, the download from a stand-in release on loopback (a 302 to the asset, as GitHub answers), the SHA-256 check against dist/checksums.txt, the exec; timed to the first request reaching cloudsim. A job's first use downloads (a fresh RUNNER_TEMP each run); its second finds the verified binary. Baselines, in the same run, each plus the binary's own exec → first request (%s): `go build -trimpath ./cmd/action` with an empty GOCACHE and a warm module cache, the least `image: Dockerfile` compiles on every job (it also pulls golang:1.26 and downloads the modules), and the same build with a warm GOCACHE, which no Docker action job has. %d runs each (%d at 10 MiB/s; builds: %d cold, %d warm).\n\n",
		host.Asset, float64(len(bin))/(1<<20), ms(bare.quantile(0.5)), runs, slowRuns, coldBuilds, warmBuilds)
	rows := [][]string{
		row("first use in a job: step start → first Cloud request (download on loopback)", first),
		row("first use in a job, download at 10 MiB/s", slow),
		row("second use in the job (cached binary, SHA-256 checked again)", cached),
	}
	if len(cold) > 0 {
		rows = append(rows, []string{"baseline: `go build ./cmd/action`, empty build cache, + exec → first request", secs(cold.quantile(0.5)), secs(cold.quantile(0.9)), "1", vs(cold, warm)})
	}
	rows = append(rows, []string{"baseline: `go build ./cmd/action`, warm build cache, + exec → first request", secs(warm.quantile(0.5)), secs(warm.quantile(0.9)), vs(warm, cold), "1"})
	table(out, []string{"What", "Median", "p90", "Median vs empty-cache build", "Median vs warm-cache build"}, rows)
	fmt.Fprintf(out, "Target ≤ 5 s from the step's start to the first Cloud request: %s here at 10 MiB/s (p90 %s); a hosted runner's download from github.com is not measured.\n\n",
		verdict(slow.quantile(0.9) <= 5*time.Second), secs(slow.quantile(0.9)))
	return nil
}
