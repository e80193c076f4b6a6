package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
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

// timeToFirstRequest starts bin and returns the time from its start to its
// first Cloud request, then kills it.
func timeToFirstRequest(ctx context.Context, bin string, env []string, fr *firstRequest) (time.Duration, string, error) {
	seen := fr.arm()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = env
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
	dir, err := os.MkdirTemp("", "hasura-preview-bench-action-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "hasura-preview-action")
	if err := reliability.Build(ctx, cfg.repoRoot, "./cmd/action", bin); err != nil {
		return err
	}
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
			d, logs, err := timeToFirstRequest(ctx, bin, step.Env, fr)
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
	fmt.Fprintf(out, "The action binary built as the Dockerfile builds it (`CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' ./cmd/action`): **%.1f MiB** (%d bytes); target ≤ 20 MiB: %s.\n\n",
		float64(fi.Size())/(1<<20), fi.Size(), verdict(fi.Size() <= maxActionBytes))
	fmt.Fprintf(out, "%d runs each, started as a runner starts the container's entrypoint (env, event file, file-command files); the time is from `exec` to the first request reaching cloudsim on loopback (the process is then killed). Baseline: `node -e 0` from `exec` to exit, in the same run. %s\n\n", runs, nodeNote)
	rows := [][]string{
		row("action: exec → first Cloud request (comment and deployment off)", bare),
		row("action: exec → first Cloud request (comment + deployment on, ghsim)", withGH),
		row("action with no inputs: exec → exit (refuses)", self),
	}
	if len(node) > 0 {
		rows = append(rows, row("`node -e 0`: exec → exit (baseline)", node))
	}
	table(out, []string{"What", "Median", "p90", "Median vs node"}, rows)
	return nil
}
