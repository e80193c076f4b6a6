// Package sandbox is what `hasura-preview-webhook -sandbox` runs the real
// service against: an in-process Hasura Cloud (cloudsim, with builds of a
// few seconds) and an in-process GitHub (ghsim) holding the sandbox App,
// its installation, the repository Codertocat/Hello-World with
// .github/hasura-preview.yml on main, and pull request 2 from branch
// "changes". Each simulator listens on its own loopback port, so the
// service reaches them over real HTTP exactly as it reaches the real APIs.
//
// Replay then sends the pull request's lifecycle (opened, synchronize,
// closed) as signed deliveries, built from bundled real payloads, to the
// service's own /webhook, and prints the PR comment each time it changes.
package sandbox

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

// Sandbox build times: a preview is up in about three seconds.
const (
	DefaultCreationDuration = time.Second
	DefaultTaskDuration     = 300 * time.Millisecond
)

// RepoConfig is the .github/hasura-preview.yml the sandbox repository
// carries on its base branch.
const RepoConfig = `# hasura-preview sandbox: a repository enrols by committing this file.
directory: hasura
name: "{repo}-pr-{pr}"
region: us-west-1
env:
  HASURA_GRAPHQL_ENABLE_CONSOLE: "true"
  HASURA_GRAPHQL_DEV_MODE: "true"
`

// Options configures Start.
type Options struct {
	// AppID and PublicKey register the App whose JWTs ghsim accepts
	// (config.SandboxAppID and the public half of cfg.PrivateKey()).
	AppID     int64
	PublicKey *rsa.PublicKey
	// CloudToken is the PAT cloudsim accepts.
	CloudToken string
	// CreationDuration and TaskDuration pace cloudsim's jobs
	// [DefaultCreationDuration, DefaultTaskDuration].
	CreationDuration time.Duration
	TaskDuration     time.Duration
}

// Env is a running pair of simulators.
type Env struct {
	Cloud  *cloudsim.Server
	GitHub *ghsim.Server
	// CloudURL is cloudsim's GraphQL endpoint; GitHubURL is ghsim's API
	// root, with a trailing slash.
	CloudURL  string
	GitHubURL string
	// HeadSHA is the pull request's head commit, as ghsim reports it.
	HeadSHA string

	servers []*http.Server
}

// Start seeds both simulators and serves each on a free loopback port.
func Start(opts Options) (*Env, error) {
	if opts.AppID <= 0 || opts.PublicKey == nil || opts.CloudToken == "" {
		return nil, errors.New("sandbox: AppID, PublicKey and CloudToken are required")
	}
	if opts.CreationDuration <= 0 {
		opts.CreationDuration = DefaultCreationDuration
	}
	if opts.TaskDuration <= 0 {
		opts.TaskDuration = DefaultTaskDuration
	}
	cs, err := cloudsim.New(cloudsim.Options{PAT: opts.CloudToken, CreationDuration: opts.CreationDuration, TaskDuration: opts.TaskDuration})
	if err != nil {
		return nil, fmt.Errorf("sandbox: starting the Cloud simulator: %w", err)
	}
	gh := ghsim.New(ghsim.Options{})
	e := &Env{Cloud: cs, GitHub: gh, HeadSHA: FakeSHA("sandbox changes 1")}
	Seed(gh, opts.AppID, opts.PublicKey, e.HeadSHA)

	cloudBase, err := e.serve(cs)
	if err != nil {
		return nil, err
	}
	ghBase, err := e.serve(gh)
	if err != nil {
		e.Close()
		return nil, err
	}
	e.CloudURL = cloudBase + cloudsim.DefaultPath
	e.GitHubURL = ghBase + gh.Prefix()
	return e, nil
}

// Seed registers the App and installation 1 on Codertocat/Hello-World, the
// repository config on main, and pull request 2 (branch "changes" at
// headSHA) in gh. Tests that run their own ghsim call it too.
func Seed(gh *ghsim.Server, appID int64, pub *rsa.PublicKey, headSHA string) {
	gh.AddApp(appID, pub)
	gh.AddInstallation(appID, InstallationID, Owner, []string{Repo})
	gh.SetRef(Owner, Repo, BaseBranch, FakeSHA("sandbox main"))
	gh.SetFile(Owner, Repo, BaseBranch, ".github/hasura-preview.yml", RepoConfig)
	gh.SetFile(Owner, Repo, BaseBranch, "hasura/config.yaml", "version: 3\n")
	gh.AddPull(Owner, Repo, ghsim.PullSpec{
		Number: PRNumber, Title: "Update the README with new information.", User: Owner,
		HeadRef: Branch, HeadSHA: headSHA, BaseRef: BaseBranch, Files: []string{"README.md"},
	})
}

func (e *Env) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("sandbox: listening on loopback: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	e.servers = append(e.servers, srv)
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// Close stops both simulators.
func (e *Env) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range e.servers {
		if err := s.Shutdown(ctx); err != nil {
			_ = s.Close()
		}
	}
}
