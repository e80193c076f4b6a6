package service_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/config"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/jobs"
	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/sandbox"
	"github.com/hasura-preview/hasura-preview/internal/service"
)

const (
	testAppID  = 4242
	testPAT    = "test-pat"
	testSecret = "test-webhook-secret"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func appKey(t testing.TB) *rsa.PrivateKey {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

func keyPEM(t testing.TB) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(appKey(t))}))
}

// sims are the simulators a test service talks to, over loopback.
type sims struct {
	cloud    *cloudsim.Server
	cloudURL string
	gh       *ghsim.Server
	ghURL    string
}

// newSims starts cloudsim (builds of about a second) and ghsim (mounted
// under /api/v3/ as on GitHub Enterprise, which catches clients that drop
// the prefix), seeded like the sandbox: App, installation 1,
// Codertocat/Hello-World with its config on main, PR 2.
func newSims(t testing.TB, mutate ...func(*cloudsim.Options)) *sims {
	t.Helper()
	cs, cloudURL := cloudsim.NewTestServer(t, cloudsim.Options{PAT: testPAT,
		CreationDuration: 300 * time.Millisecond, TaskDuration: 50 * time.Millisecond}, mutate...)
	gh, ghURL := ghsim.NewTestServer(t, ghsim.Options{Prefix: "/api/v3/"})
	sandbox.Seed(gh, testAppID, &appKey(t).PublicKey, sandbox.FakeSHA("head 1"))
	return &sims{cloud: cs, cloudURL: cloudURL, gh: gh, ghURL: ghURL}
}

// env is a service configuration as environment variables.
func (s *sims) env(t testing.TB, databaseURL string) map[string]string {
	return map[string]string{
		"HASURA_CLOUD_ACCESS_TOKEN": testPAT,
		"HASURA_CLOUD_ENDPOINT":     s.cloudURL,
		"GITHUB_APP_ID":             strconv.Itoa(testAppID),
		"GITHUB_APP_PRIVATE_KEY":    keyPEM(t),
		"GITHUB_WEBHOOK_SECRET":     testSecret,
		"GITHUB_API_URL":            s.ghURL,
		"DATABASE_URL":              databaseURL,
		"LISTEN_ADDR":               "127.0.0.1:0",
		"CLOUD_RATE_LIMIT":          "1000",
		"CLOUD_RATE_BURST":          "1000",
		"WORKERS":                   "10",
		"LOG_LEVEL":                 "warn",
	}
}

func load(t testing.TB, env map[string]string) config.Config {
	t.Helper()
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// fastDeps polls the simulator often and has River look for jobs often.
func fastDeps(t testing.TB) service.Deps {
	return service.Deps{
		Stdout:        io.Discard,
		Logger:        testLogger(t),
		Poll:          preview.PollPolicy{Initial: 50 * time.Millisecond, Max: 300 * time.Millisecond, Jitter: -1},
		ShutdownGrace: 10 * time.Second,
		JobOptions: func(o *jobs.Options) {
			o.Configure = func(c *river.Config) {
				c.FetchPollInterval = 50 * time.Millisecond
				c.FetchCooldown = 10 * time.Millisecond
			}
		},
	}
}

// running is a service started by start.
type running struct {
	url  string
	stop func() error
}

// start runs the service in this process until the test ends (or stop).
func start(t testing.TB, cfg config.Config, deps service.Deps) *running {
	t.Helper()
	if deps.Listener == nil {
		deps.Listener = listener(t)
	}
	ready := make(chan string, 1)
	deps.Ready = func(u string) { ready <- u }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- service.Run(ctx, cfg, deps) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case u := <-ready:
		return &running{url: u, stop: stop}
	case err := <-done:
		t.Fatalf("Run returned before serving: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("the service did not start within a minute")
	}
	return nil
}

// listener listens on a free loopback port, for a test that needs the
// service's URL before it starts (PUBLIC_URL).
func listener(t testing.TB) net.Listener { return listenOn(t, "127.0.0.1:0") }

// listenOn listens on addr.
func listenOn(t testing.TB, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// deliver posts a signed delivery and wants it accepted.
func deliver(t testing.TB, url, event string, body []byte) {
	t.Helper()
	status, answer, err := sandbox.Post(context.Background(), nil, url+"/webhook", []byte(testSecret),
		sandbox.Delivery{Event: event, Body: body, AppID: testAppID})
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusAccepted {
		t.Fatalf("%s delivery: %d %s", event, status, answer)
	}
}

func prPayload(t testing.TB, p sandbox.PullRequest) []byte {
	t.Helper()
	b, err := p.Payload()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// eventually polls cond until it holds; the minute is a guard against a
// hang, not a speed requirement.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func commentBodies(gh *ghsim.Server, n int) []string {
	var out []string
	for _, c := range gh.Comments(sandbox.Owner, sandbox.Repo, n) {
		out = append(out, c.Body)
	}
	return out
}

// testLogger writes warnings to the test's output, so a failing test shows
// them.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}
