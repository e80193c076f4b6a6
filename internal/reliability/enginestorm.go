package reliability

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// The storm's secrets: distinctive, so a scan for them is meaningful.
const (
	StormPAT         = "hcpat_RELIABILITY_engine_5f0d2b7e91c4"
	StormGitHubToken = "ghs_RELIABILITYbranchreader_93a1c7d2"
	StormAdminSecret = "adm_RELIABILITY_secret_6e2f4a0b8d"
)

// EngineStormConfig shapes an engine-level fault storm. Zero fields take
// the defaults in brackets.
type EngineStormConfig struct {
	// PRs is the number of pull request lifecycles [20].
	PRs int
	// Pushes is the number of builds per PR, the opening one included [3].
	Pushes int
	// Rate is the share of Cloud requests that get a random fault [0.3].
	Rate float64
	// Seed makes the faults and names reproducible [1].
	Seed int64
	// Concurrency is how many PRs run at once [4].
	Concurrency int
	// CloseDuringBuildEvery closes every Nth PR while its last build still
	// runs, instead of after it [3; negative: never].
	CloseDuringBuildEvery int
	// Timeout bounds the whole storm in wall time [2m].
	Timeout time.Duration
}

func (c *EngineStormConfig) defaults() {
	if c.PRs <= 0 {
		c.PRs = 20
	}
	if c.Pushes <= 0 {
		c.Pushes = 3
	}
	if c.Rate == 0 {
		c.Rate = 0.3
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.CloseDuringBuildEvery == 0 {
		c.CloseDuringBuildEvery = 3
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Minute
	}
}

// StormReport is what a storm did and what it found wrong.
type StormReport struct {
	PRs    int
	Builds int // builds asked for (pushes)
	// Creates is how many createGitHubPreviewApp the Cloud executed.
	Creates int
	// Requests and Faulted count every Cloud request and those given a fault.
	Requests, Faulted int64
	// ClosedDuringBuild counts PRs closed while a build ran.
	ClosedDuringBuild int
	// Orphans are apps still in the Cloud after every PR closed.
	Orphans []string
	// Problems are broken invariants, one line each.
	Problems []string
	Leaks    []Leak
	Elapsed  time.Duration
}

// OK reports whether the storm found nothing wrong.
func (r *StormReport) OK() bool {
	return len(r.Problems) == 0 && len(r.Orphans) == 0 && len(r.Leaks) == 0
}

// String summarises the report in one line.
func (r *StormReport) String() string {
	return fmt.Sprintf("%d PRs, %d builds, %d creates, %d requests (%d faulted), %d closed mid-build, %d orphans, %d problems, %d leaks in %s",
		r.PRs, r.Builds, r.Creates, r.Requests, r.Faulted, r.ClosedDuringBuild, len(r.Orphans), len(r.Problems), len(r.Leaks),
		r.Elapsed.Round(time.Millisecond))
}

// lockedBuffer collects logs from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p; safe for concurrent use.
func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// engineStorm is one storm's world.
type engineStorm struct {
	cfg    EngineStormConfig
	clock  *clock.Manual
	sim    *cloudsim.Server
	engine *preview.Engine
	logs   *lockedBuffer

	mu       sync.Mutex
	rep      *StormReport
	messages []string // results and errors, scanned for secrets
}

// EngineFaultStorm runs PR lifecycles (open, pushes, close) through the
// preview engine against cloudsim with random faults (5xx, 429, HTML, slow
// answers) on a manual clock, the way the action and the reconciler drive
// it: a build whose create could not get through is asked again, a delete
// waits for an in-flight build. Afterwards every build must have ended in
// success with the endpoint the Cloud reports, the Cloud must have executed
// exactly one create per build, no app may be left, and no secret may
// appear in the logs or results.
func EngineFaultStorm(ctx context.Context, cfg EngineStormConfig) (*StormReport, error) {
	cfg.defaults()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	start := time.Now()
	s := &engineStorm{cfg: cfg, clock: clock.NewManual(time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)),
		logs: &lockedBuffer{}, rep: &StormReport{PRs: cfg.PRs}}
	var requests, faulted atomic.Int64
	sim, err := cloudsim.New(cloudsim.Options{PAT: StormPAT, Clock: s.clock, Seed: uint64(cfg.Seed),
		CreationDuration: 30 * time.Second, TaskDuration: 10 * time.Second,
		OnRequest: func(r cloudsim.Record) {
			requests.Add(1)
			if r.Fault != "" {
				faulted.Add(1)
			}
		}})
	if err != nil {
		return nil, err
	}
	s.sim = sim
	srv := httptest.NewServer(sim)
	defer srv.Close()
	log := slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	client, err := cloud.New(StormPAT, cloud.WithEndpoint(srv.URL+cloudsim.DefaultPath), cloud.WithSleep(s.clock.Sleep),
		cloud.WithLogger(log))
	if err != nil {
		return nil, err
	}
	s.engine = &preview.Engine{Cloud: client, Now: s.clock.Now, Sleep: s.clock.Sleep, Log: log}
	sim.SetRandomFaults(cfg.Rate, cfg.Seed)

	sem := make(chan struct{}, cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range cfg.PRs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := s.lifecycle(ctx, i); err != nil {
				s.problem("PR %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	sim.ClearFaults()
	rep := s.rep
	rep.Requests = requests.Load()
	rep.Faulted = faulted.Load()
	rep.Creates = sim.Count(cloud.OpCreatePreviewApp)
	if rep.Creates != rep.Builds {
		s.problem("the Cloud executed %d creates for %d builds", rep.Creates, rep.Builds)
	}
	for _, p := range sim.Projects() {
		rep.Orphans = append(rep.Orphans, p.Name)
	}
	texts := map[string]string{"engine and client logs": s.logs.String()}
	for i, m := range s.messages {
		texts[fmt.Sprintf("result or error %d", i)] = m
	}
	rep.Leaks, err = ScanSecrets(map[string]string{"PAT": StormPAT, "GitHub token": StormGitHubToken,
		"admin secret": StormAdminSecret}, texts)
	if err != nil {
		return nil, err
	}
	rep.Elapsed = time.Since(start)
	if ctx.Err() != nil {
		s.problem("the storm hit its time bound (%s)", cfg.Timeout)
	}
	return rep, nil
}

func (s *engineStorm) problem(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rep.Problems = append(s.rep.Problems, fmt.Sprintf(format, args...))
}

func (s *engineStorm) note(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, text)
}

func (s *engineStorm) counted(builds int, closedMidBuild bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rep.Builds += builds
	if closedMidBuild {
		s.rep.ClosedDuringBuild++
	}
}

// lifecycle is one PR: Pushes builds, then close.
func (s *engineStorm) lifecycle(ctx context.Context, i int) error {
	name := fmt.Sprintf("storm%d-pr-%d", s.cfg.Seed, i)
	spec := preview.Spec{Name: name, Owner: "acme", Repo: "shop", Branch: fmt.Sprintf("feature-%d", i),
		Directory: "hasura", Region: "us-east-2", Plan: "cloud_free", GitHubToken: StormGitHubToken,
		Env: []preview.EnvVar{{Key: "HASURA_GRAPHQL_ADMIN_SECRET", Value: StormAdminSecret}}}
	midBuild := s.cfg.CloseDuringBuildEvery > 0 && i%s.cfg.CloseDuringBuildEvery == s.cfg.CloseDuringBuildEvery-1
	for p := range s.cfg.Pushes {
		if midBuild && p == s.cfg.Pushes-1 {
			run, err := s.start(ctx, spec)
			if err != nil {
				return err
			}
			s.counted(p+1, true)
			if err := s.destroy(ctx, preview.DestroySpec{Name: name, InFlightJob: run.Result.CreationJobID}); err != nil {
				return err
			}
			return s.checkGone(name, p+1)
		}
		res, err := s.ensure(ctx, spec)
		if err != nil {
			return err
		}
		s.note(res.Message)
		if res.Status != preview.StatusSuccess {
			return fmt.Errorf("build %d ended %s: %s", p, res.Status, res.Message)
		}
		proj, ok := s.sim.Project(name)
		if !ok || proj.GraphQLURL != res.Endpoint || proj.ID != res.ProjectID {
			return fmt.Errorf("build %d reports endpoint %q project %q; the Cloud has %+v (exists %v)",
				p, res.Endpoint, res.ProjectID, proj.Endpoint, ok)
		}
	}
	s.counted(s.cfg.Pushes, false)
	if err := s.destroy(ctx, preview.DestroySpec{Name: name}); err != nil {
		return err
	}
	return s.checkGone(name, s.cfg.Pushes)
}

// checkGone: the app is gone and the Cloud ran one creation job per build.
func (s *engineStorm) checkGone(name string, builds int) error {
	if _, ok := s.sim.Project(name); ok {
		return fmt.Errorf("%s still exists after close", name)
	}
	creations := 0
	for _, j := range s.sim.Jobs(name) {
		if j.Kind == cloudsim.KindCreation {
			creations++
		}
	}
	if creations != builds {
		return fmt.Errorf("%s: %d creation jobs for %d builds", name, creations, builds)
	}
	return nil
}

// maxAsks bounds how often a caller asks again after a transient failure.
const maxAsks = 50

// start asks for a build until the create gets through: a create that
// failed on every retry of the client was never executed.
func (s *engineStorm) start(ctx context.Context, spec preview.Spec) (*preview.Run, error) {
	for range maxAsks {
		run, err := s.engine.Start(ctx, spec)
		if err == nil {
			return run, nil
		}
		s.note(err.Error())
		if !errors.Is(err, cloud.ErrTransient) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("create of %s failed %d times", spec.Name, maxAsks)
}

func (s *engineStorm) ensure(ctx context.Context, spec preview.Spec) (preview.Result, error) {
	run, err := s.start(ctx, spec)
	if err != nil {
		return preview.Result{}, err
	}
	res, err := s.engine.Follow(ctx, run, nil)
	if err != nil {
		s.note(err.Error())
	}
	return res, err
}

// destroy deletes until done, waiting out an in-flight build.
func (s *engineStorm) destroy(ctx context.Context, spec preview.DestroySpec) error {
	for range maxAsks * 4 {
		_, err := s.engine.Destroy(ctx, spec)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, preview.ErrBuildInFlight):
			if err := s.clock.Sleep(ctx, 5*time.Second); err != nil {
				return err
			}
		case errors.Is(err, cloud.ErrTransient):
			s.note(err.Error())
		default:
			s.note(err.Error())
			return err
		}
	}
	return fmt.Errorf("could not delete %s", spec.Name)
}
