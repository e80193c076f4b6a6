package reliability

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/sandbox"
)

// The service's secrets in a World: distinctive, so a scan is meaningful.
const (
	WorldPAT           = "hcpat_RELIABILITY_service_8e41f0a7c3"
	WorldWebhookSecret = "whsec_RELIABILITY_service_2b9d6c1e"
	worldAppID         = 90210
)

// WorldOptions shapes a World. Zero fields take the defaults in brackets.
type WorldOptions struct {
	// Bin is the built service (Build of ./cmd/webhook); required.
	Bin string
	// Dir holds the SQLite file and scratch files; required.
	Dir string
	// DatabaseURL overrides the SQLite file in Dir.
	DatabaseURL string
	// PRs seeds pull requests 1..PRs [10].
	PRs int
	// Repos spreads them over this many repositories, each with an
	// installation of its own (GitHub's rate limits are per installation)
	// [1: Codertocat/Hello-World only]. PR n lives in repository
	// (n-1) % Repos.
	Repos int
	// CreationDuration and TaskDuration pace cloudsim's jobs [300ms, 50ms].
	CreationDuration, TaskDuration time.Duration
	// Workers, CloudRateLimit and CloudRateBurst configure the service
	// [10, 1000, 1000].
	Workers        int
	CloudRateLimit float64
	CloudRateBurst int
	// FaultRate gives that share of Cloud requests a random fault [0].
	FaultRate float64
	Seed      int64
	// Env adds or overrides service variables.
	Env map[string]string
	// OnCloudRequest hears every answered Cloud request (rate meters).
	OnCloudRequest func(cloudsim.Record)
}

// World is the service as a subprocess between cloudsim and ghsim, all on
// loopback, restartable at will.
type World struct {
	opts      WorldOptions
	Cloud     *cloudsim.Server
	GitHub    *ghsim.Server
	cloudURL  string
	gitHubURL string
	keyPEM    string
	servers   []*http.Server
	// URL is the service's base URL; it stays the same across restarts.
	URL  string
	addr string
	logs *lockedBuffer

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
	starts   int
	clock    time.Time
	heads    map[int]string
	lastHWMk int64
}

// NewWorld starts the simulators and seeds them; the service is not
// started (Start).
func NewWorld(opts WorldOptions) (*World, error) {
	if opts.Bin == "" || opts.Dir == "" {
		return nil, errors.New("reliability: WorldOptions.Bin and Dir are required")
	}
	if opts.PRs <= 0 {
		opts.PRs = 10
	}
	if opts.Repos <= 0 {
		opts.Repos = 1
	}
	if opts.CreationDuration <= 0 {
		opts.CreationDuration = 300 * time.Millisecond
	}
	if opts.TaskDuration <= 0 {
		opts.TaskDuration = 50 * time.Millisecond
	}
	if opts.Workers <= 0 {
		opts.Workers = 10
	}
	if opts.CloudRateLimit <= 0 {
		opts.CloudRateLimit = 1000
	}
	if opts.CloudRateBurst <= 0 {
		opts.CloudRateBurst = 1000
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	w := &World{opts: opts, logs: &lockedBuffer{}, heads: map[int]string{},
		clock:  time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC),
		keyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))}
	w.Cloud, err = cloudsim.New(cloudsim.Options{PAT: WorldPAT, CreationDuration: opts.CreationDuration,
		TaskDuration: opts.TaskDuration, Seed: uint64(opts.Seed + 1), OnRequest: opts.OnCloudRequest, LogLimit: 100})
	if err != nil {
		return nil, err
	}
	if opts.FaultRate > 0 {
		w.Cloud.SetRandomFaults(opts.FaultRate, opts.Seed)
	}
	w.GitHub = ghsim.New(ghsim.Options{Prefix: "/api/v3/"})
	sandbox.Seed(w.GitHub, worldAppID, &key.PublicKey, sandbox.FakeSHA("world seed"))
	for r := 1; r < opts.Repos; r++ {
		repo, inst := w.repoOf(r + 1)
		w.GitHub.AddInstallation(worldAppID, inst, sandbox.Owner, []string{repo})
		w.GitHub.SetRef(sandbox.Owner, repo, sandbox.BaseBranch, sandbox.FakeSHA("main of "+repo))
		w.GitHub.SetFile(sandbox.Owner, repo, sandbox.BaseBranch, ".github/hasura-preview.yml", sandbox.RepoConfig)
		w.GitHub.SetFile(sandbox.Owner, repo, sandbox.BaseBranch, "hasura/config.yaml", "version: 3\n")
	}
	for n := 1; n <= opts.PRs; n++ {
		w.heads[n] = sandbox.FakeSHA(fmt.Sprintf("pr %d push 0", n))
		repo, _ := w.repoOf(n)
		w.GitHub.AddPull(sandbox.Owner, repo, ghsim.PullSpec{Number: n, Title: fmt.Sprintf("Change %d", n),
			User: sandbox.Owner, HeadRef: Branch(n), HeadSHA: w.heads[n], BaseRef: sandbox.BaseBranch, Files: []string{"hasura/metadata/tables.yaml"}})
	}
	cloudBase, err := w.serve(w.Cloud)
	if err != nil {
		return nil, err
	}
	ghBase, err := w.serve(w.GitHub)
	if err != nil {
		w.Close()
		return nil, err
	}
	w.cloudURL, w.gitHubURL = cloudBase+cloudsim.DefaultPath, ghBase+w.GitHub.Prefix()
	// A fixed port, so that the URL survives restarts.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		w.Close()
		return nil, err
	}
	w.addr = ln.Addr().String()
	_ = ln.Close()
	w.URL = "http://" + w.addr
	return w, nil
}

// Branch is the head branch of PR n.
func Branch(n int) string { return fmt.Sprintf("feature-%d", n) }

// repoOf names PR n's repository and its installation.
func (w *World) repoOf(n int) (string, int64) {
	r := (n - 1) % w.opts.Repos
	if r == 0 {
		return sandbox.Repo, sandbox.InstallationID
	}
	return fmt.Sprintf("%s-%d", sandbox.Repo, r+1), int64(sandbox.InstallationID + r)
}

// AppName is the preview app of PR n under the sandbox repository config
// ("{repo}-pr-{pr}").
func (w *World) AppName(n int) string {
	repo, _ := w.repoOf(n)
	return strings.ToLower(repo) + "-pr-" + strconv.Itoa(n)
}

func (w *World) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	w.servers = append(w.servers, srv)
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

func (w *World) env() []string {
	db := w.opts.DatabaseURL
	if db == "" {
		db = filepath.Join(w.opts.Dir, "service.db")
	}
	env := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": w.opts.Dir,
		"HASURA_CLOUD_ACCESS_TOKEN": WorldPAT, "HASURA_CLOUD_ENDPOINT": w.cloudURL,
		"GITHUB_APP_ID": strconv.Itoa(worldAppID), "GITHUB_APP_PRIVATE_KEY": w.keyPEM,
		"GITHUB_WEBHOOK_SECRET": WorldWebhookSecret, "GITHUB_API_URL": w.gitHubURL,
		"DATABASE_URL": db, "LISTEN_ADDR": w.addr, "WORKERS": strconv.Itoa(w.opts.Workers),
		"CLOUD_RATE_LIMIT": strconv.FormatFloat(w.opts.CloudRateLimit, 'g', -1, 64),
		"CLOUD_RATE_BURST": strconv.Itoa(w.opts.CloudRateBurst), "LOG_LEVEL": "info", "LOG_FORMAT": "json",
	}
	for k, v := range w.opts.Env {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// Start runs the service and waits until /healthz answers 200 (at most a
// minute).
func (w *World) Start(ctx context.Context) error {
	w.mu.Lock()
	if w.cmd != nil {
		w.mu.Unlock()
		return errors.New("reliability: the service is already running")
	}
	cmd := exec.Command(w.opts.Bin)
	cmd.Env = w.env()
	cmd.Stdout, cmd.Stderr = w.logs, w.logs
	if err := cmd.Start(); err != nil {
		w.mu.Unlock()
		return err
	}
	done := make(chan struct{})
	w.cmd, w.done = cmd, done
	w.starts++
	w.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case <-done:
			w.mu.Lock()
			w.cmd = nil
			w.mu.Unlock()
			return fmt.Errorf("the service exited at start: %s", w.tail(20))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if healthy(ctx, http.DefaultClient, w.URL+"/healthz") {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("the service did not answer /healthz within a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill SIGKILLs the service, as a crash or an OOM kill would.
func (w *World) Kill() error { return w.stop(syscall.SIGKILL) }

// Stop asks the service to shut down (SIGTERM) and waits for it.
func (w *World) Stop() error { return w.stop(syscall.SIGTERM) }

func (w *World) stop(sig syscall.Signal) error {
	w.mu.Lock()
	cmd, done := w.cmd, w.done
	w.cmd = nil
	w.mu.Unlock()
	if cmd == nil {
		return nil
	}
	w.readHWM(cmd.Process.Pid)
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(40 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return errors.New("the service did not stop within 40 s of SIGTERM")
	}
	return nil
}

// PeakRSS returns the service's peak resident set (VmHWM) in bytes: of the
// running process, or of the last one stopped.
func (w *World) PeakRSS() int64 {
	w.mu.Lock()
	cmd := w.cmd
	w.mu.Unlock()
	if cmd != nil {
		w.readHWM(cmd.Process.Pid)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastHWMk << 10
}

func (w *World) readHWM(pid int) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				w.mu.Lock()
				w.lastHWMk = max(w.lastHWMk, kb)
				w.mu.Unlock()
			}
		}
	}
}

// Starts counts how often the service was started.
func (w *World) Starts() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.starts
}

// Logs is everything the service printed, over every start.
func (w *World) Logs() string { return w.logs.String() }

func (w *World) tail(n int) string {
	lines := strings.Split(strings.TrimSpace(w.logs.String()), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

// Close stops the service and the simulators.
func (w *World) Close() {
	_ = w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range w.servers {
		_ = s.Shutdown(ctx)
	}
}

// Secrets are the values ScanSecrets looks for in what the service wrote.
// Installation tokens are random (ghs_ + 26 characters): InstallationTokens
// finds them by shape.
func (w *World) Secrets() map[string]string {
	body := strings.Join(strings.Split(w.keyPEM, "\n")[1:3], "")
	return map[string]string{"Cloud PAT": WorldPAT, "webhook secret": WorldWebhookSecret,
		"App private key": body[20:80]}
}

// installationToken is the shape of the tokens ghsim mints.
var installationToken = regexp.MustCompile(`ghs_[A-Z2-7]{20,}`)

// InstallationTokens returns every installation-token-shaped string in text.
func InstallationTokens(text string) []string { return installationToken.FindAllString(text, 10) }
