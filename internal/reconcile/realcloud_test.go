package reconcile

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/config"
	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

// A first run that meets every fault users report of the real Cloud still
// ends in a ready preview, rebuilt once after the "please wait a few
// moments" failure, and the comment says so.
func TestFirstRunFaultsAreRebuiltOnceAndSaid(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{cloud: func(o *cloudsim.Options) { o.FirstRun = true }})
	h.cloud.Inject(cloudsim.Fault{Op: cloud.OpJob, Kind: cloudsim.FaultWarmingUp, Count: 2})
	h.cloud.Inject(cloudsim.Fault{Op: cloud.OpJob, Kind: cloudsim.FaultGenericError})
	key := h.openBuilt(31)

	p := h.preview(key)
	if p.Status != store.StatusReady || p.Endpoint != "https://shop-pr-31.hasura.app/v1/graphql" {
		t.Fatalf("after a first run: %+v", p)
	}
	if n := h.creates(); n != 2 {
		t.Errorf("creates = %d, want the build and one automatic rebuild", n)
	}
	body := h.sticky(31)
	for _, want := range []string{"is ready", "rebuilt once automatically", p.Endpoint} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}

	// A push meets the same failure again (a fresh first run for this
	// commit): it too gets one rebuild, not more.
	for range 2 {
		h.cloud.FailTask("shop-pr-31", "apply-metadata", cloudsim.WarmingUpText, "")
	}
	h.update(31, func(pr *store.PullRequest) { pr.HeadSHA = sha(31, 2) })
	h.mustSettle(key)
	if p := h.preview(key); p.Status != store.StatusFailed || h.creates() != 4 {
		t.Errorf("after two first-run failures: %s with %d creates, want failed after 4", p.Status, h.creates())
	}
}

// An edit of env in the configuration changes the live app in place: no
// rebuild, and the comment says what changed (keys, never values).
func TestEnvOnlyChangeIsAppliedInPlace(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.openBuilt(32)
	before, _ := h.cloud.Project("shop-pr-32")

	h.gh.SetFile(owner, repo, "main", cfgPath, `directory: hasura
name: "{repo}-pr-{pr}"
env:
  HASURA_GRAPHQL_ENABLE_CONSOLE: "false"
  FEATURE_FLAG: "on"
secrets:
  HASURA_GRAPHQL_ADMIN_SECRET: ADMIN
`)
	h.clock.Advance(2 * time.Minute) // past the configuration cache
	h.update(32, func(pr *store.PullRequest) { pr.Labels = append(pr.Labels, "reviewed") })
	h.mustSettle(key)

	after, _ := h.cloud.Project("shop-pr-32")
	if after.Builds != before.Builds || h.creates() != 1 {
		t.Errorf("builds %d → %d, creates %d: an env change must not rebuild", before.Builds, after.Builds, h.creates())
	}
	if after.Env["HASURA_GRAPHQL_ENABLE_CONSOLE"] != "false" || after.Env["FEATURE_FLAG"] != "on" ||
		after.Env["HASURA_GRAPHQL_ADMIN_SECRET"] != "s3cret-admin" {
		t.Errorf("env after the update: %v", after.Env)
	}
	body := h.sticky(32)
	for _, want := range []string{"updated in place", "FEATURE_FLAG", "HASURA_GRAPHQL_ENABLE_CONSOLE", "is ready"} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "s3cret-admin") {
		t.Error("the comment shows a secret")
	}

	// Removing a variable from the configuration removes it from the app.
	h.gh.SetFile(owner, repo, "main", cfgPath, baseConfig)
	h.clock.Advance(2 * time.Minute)
	h.update(32, func(pr *store.PullRequest) { pr.Labels = nil })
	h.mustSettle(key)
	if last, _ := h.cloud.Project("shop-pr-32"); last.Env["FEATURE_FLAG"] != "" || last.Builds != before.Builds {
		t.Errorf("after removing FEATURE_FLAG: %v, %d builds", last.Env, last.Builds)
	}
}

// A secret rotated in the service's environment reaches the live app
// without a push: the sweep notices it, the pass updates the env in place.
func TestRotatedSecretReachesTheApp(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.openBuilt(33)
	h.wantSweep("nothing rotated")

	h.setEnv(repoScope+"ADMIN", "rotated-admin")
	h.wantSweep("after the rotation", key)
	h.clock.Advance(2 * time.Minute)
	h.mustSettle(key)
	p, _ := h.cloud.Project("shop-pr-33")
	if p.Env["HASURA_GRAPHQL_ADMIN_SECRET"] != "rotated-admin" || p.Builds != 1 || p.EnvUpdates != 1 {
		t.Errorf("after the rotation: env %v, %d builds, %d env updates", p.Env, p.Builds, p.EnvUpdates)
	}
	h.wantSweep("once applied")
	if body := h.sticky(33); strings.Contains(body, "rotated-admin") || !strings.Contains(body, "HASURA_GRAPHQL_ADMIN_SECRET") {
		t.Errorf("comment after the rotation:\n%s", body)
	}
}

// Several projects of one name (graphql-engine#10287): the sweep keeps the
// one the preview was built as and deletes the rest; a close deletes all.
func TestDuplicateProjectsAreOrphans(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.openBuilt(34)
	live := h.preview(key).ProjectID
	h.cloud.Duplicate("shop-pr-34")
	h.cloud.Duplicate("shop-pr-34")
	h.clock.Advance(time.Hour)
	h.wantSweep("with duplicates")
	left := h.cloud.Projects()
	if len(left) != 1 || left[0].ID != live {
		t.Fatalf("after the sweep: %+v, want only %s", left, live)
	}

	h.cloud.Duplicate("shop-pr-34")
	h.update(34, func(pr *store.PullRequest) { pr.Closed = true })
	h.mustSettle(key)
	if left := h.cloud.Projects(); len(left) != 0 {
		t.Errorf("after close: %+v", left)
	}
}

// The sweep deletes duplicates only under the PR's lease: while the PR's
// job holds it (it may be rebuilding or deleting the app), they are left to
// a later sweep.
func TestDuplicatesWaitForThePRsLease(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.openBuilt(35)
	live := h.preview(key).ProjectID
	h.cloud.Duplicate("shop-pr-35")
	if ok, _, err := h.st.AcquireLease(context.Background(), key, "its-job", 24*time.Hour); !ok || err != nil {
		t.Fatalf("lease: %v %v", ok, err)
	}
	h.clock.Advance(time.Hour)
	h.wantSweep("with the job running")
	if left := h.cloud.Projects(); len(left) != 2 {
		t.Fatalf("the sweep deleted under the job's lease: %+v", left)
	}
	if err := h.st.ReleaseLease(context.Background(), key, "its-job"); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Hour)
	h.wantSweep("after the job")
	if left := h.cloud.Projects(); len(left) != 1 || left[0].ID != live {
		t.Fatalf("after the lease: %+v, want only %s", left, live)
	}
}

// refusingCreate answers every create with an error retrying cannot fix.
type refusingCreate struct {
	preview.CloudAPI
	calls int
}

func (r *refusingCreate) CreateGitHubPreviewApp(context.Context, cloud.PreviewApp) (string, error) {
	r.calls++
	return "", &cloud.Error{Op: cloud.OpCreatePreviewApp, Class: cloud.ErrNotFound, Message: "github repository not found"}
}

// A create the Cloud refuses for good (an unknown repository, an error of
// no known class) fails the preview at once: retried, every attempt would
// mint a clone token and spend the account's monthly quota.
func TestPermanentCreateRefusalIsNotRetried(t *testing.T) {
	t.Parallel()
	rc := &refusingCreate{}
	h := newHarness(t, harnessOptions{wrapCloud: func(api preview.CloudAPI) preview.CloudAPI { rc.CloudAPI = api; return rc }})
	key := h.open(35, nil)
	err := h.settle(key)
	if !isPermanent(err) || !errors.Is(err, cloud.ErrNotFound) {
		t.Fatalf("want a permanent error, got %v", err)
	}
	if p := h.preview(key); p.Status != store.StatusFailed || !strings.Contains(p.LastError, "github repository not found") {
		t.Fatalf("preview: %s %q", p.Status, p.LastError)
	}
	if rc.calls != 1 {
		t.Errorf("%d creates, want 1", rc.calls)
	}
}

// The run state's fingerprints are keyed with the service's Cloud token:
// someone who reads the database and knows the configuration (it is in the
// repository) cannot check a guess of a secret against them.
func TestEnvFingerprintsAreKeyed(t *testing.T) {
	t.Parallel()
	const key = "hcpat-service-token"
	h := newHarness(t, harnessOptions{settings: func(s *Settings) {
		*s = SettingsFrom(config.Config{SecretEnvPrefix: s.SecretEnvPrefix, CloudToken: key})
	}})
	s := decodeState(h.preview(h.openBuilt(34)).RunState)
	guess := []preview.EnvVar{{Key: repoScope + "ADMIN", Value: "s3cret-admin"}}
	if s.SecretSig == "" || s.EnvSig == "" {
		t.Fatalf("no fingerprints recorded: %+v", s)
	}
	if s.SecretSig == preview.EnvSig("", guess) {
		t.Error("the secret's fingerprint is unkeyed: a right guess can be checked against the database")
	}
	if s.SecretSig != preview.EnvSig(key, guess) {
		t.Error("the secret's fingerprint is not keyed with the Cloud token")
	}
}

// Records written before the fingerprints were keyed are not taken for a
// changed env (no update in place, no sweep of every preview after the
// upgrade): the next pass records them keyed.
func TestUnkeyedFingerprintsAreRekeyed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{}) // no key, as before the upgrade
	key := h.openBuilt(36)
	h.deps.Settings.EnvSigKey = "hcpat-after-the-upgrade"
	h.restart()
	h.sweep = NewSweeper(h.rec, SweepOptions{})
	h.clock.Advance(time.Hour)
	h.wantSweep("after the upgrade")
	h.update(36, func(pr *store.PullRequest) { pr.Labels = append(pr.Labels, "reviewed") })
	h.mustSettle(key)
	if p, _ := h.cloud.Project("shop-pr-36"); p.EnvUpdates != 0 || p.Builds != 1 {
		t.Errorf("after the upgrade: %d env updates, %d builds", p.EnvUpdates, p.Builds)
	}
	s := decodeState(h.preview(key).RunState)
	guess := []preview.EnvVar{{Key: repoScope + "ADMIN", Value: "s3cret-admin"}}
	if s.SecretSig != preview.EnvSig("hcpat-after-the-upgrade", guess) || s.EnvSig == "" {
		t.Errorf("not re-keyed: %+v", s)
	}
}
