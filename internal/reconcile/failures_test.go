package reconcile

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

func TestRestartBetweenStepsResumes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.open(7, nil)
	h.steps(key, 3)
	h.restart()
	h.mustSettle(key)
	if p := h.preview(key); p.Status != store.StatusReady || h.creates() != 1 {
		t.Fatalf("after a restart mid-build: %+v, creates %d", p, h.creates())
	}
	if len(h.gh.Deployments(owner, repo)) != 1 || len(h.ourComments(7)) != 1 {
		t.Fatalf("deployments %d, comments %d", len(h.gh.Deployments(owner, repo)), len(h.ourComments(7)))
	}
}

// crashAfterCreate lets the first create reach the Cloud, then fails as a
// process dying before it saved the job id would.
type crashAfterCreate struct {
	preview.CloudAPI
	crashed bool
}

func (c *crashAfterCreate) CreateGitHubPreviewApp(ctx context.Context, in cloud.PreviewApp) (string, error) {
	id, err := c.CloudAPI.CreateGitHubPreviewApp(ctx, in)
	if err == nil && !c.crashed {
		c.crashed = true
		return "", errors.New("process killed")
	}
	return id, err
}

func TestCrashAfterCreateCostsOneDuplicateAtMost(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{wrapCloud: func(api preview.CloudAPI) preview.CloudAPI {
		return &crashAfterCreate{CloudAPI: api}
	}})
	key := h.open(7, nil)
	if _, err := h.rec.Reconcile(h.ctx, key); err == nil {
		t.Fatal("the crash went unnoticed")
	}
	if p := h.preview(key); p.Status != store.StatusBuilding {
		t.Fatalf("what was being built must be saved before the create: %+v", p)
	}
	h.restart()
	h.mustSettle(key)
	if p := h.preview(key); p.Status != store.StatusReady || h.creates() != 2 {
		t.Fatalf("after the crash: %+v, creates %d (want exactly one duplicate)", p, h.creates())
	}
	if len(h.cloud.Projects()) != 1 {
		t.Fatalf("projects: %+v", h.cloud.Projects())
	}
}

func TestTransientCloudErrorIsRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.cloud.Inject(cloudsim.Fault{Op: cloud.OpCreatePreviewApp, Kind: cloudsim.FaultServerError, Count: 100})
	key := h.open(7, nil)
	err := h.settle(key)
	if err == nil || isPermanent(err) || !errors.Is(err, cloud.ErrTransient) {
		t.Fatalf("want a retryable error, got %v", err)
	}
	h.cloud.ClearFaults()
	h.mustSettle(key)
	if p := h.preview(key); p.Status != store.StatusReady || h.creates() != 1 {
		t.Fatalf("after the outage: %+v, creates %d", p, h.creates())
	}
}

func TestCloudRefusesTokenFailsPermanently(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{cloud: func(o *cloudsim.Options) { o.PAT = "someone-elses" }})
	key := h.open(7, nil)
	err := h.settle(key)
	if !isPermanent(err) || !errors.Is(err, cloud.ErrUnauthorized) {
		t.Fatalf("want a permanent unauthorized error, got %v", err)
	}
	if p := h.preview(key); p.Status != store.StatusFailed {
		t.Fatalf("preview: %+v", p)
	}
	if body := h.sticky(7); !strings.Contains(body, "refused the service's access token") || strings.Contains(body, simPAT) {
		t.Fatalf("comment:\n%s", body)
	}
}

func TestMissingGitHubPermissionsDoNotStopThePreview(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.gh.SetInstallationPermissions(instID, map[string]string{"metadata": "read", "contents": "read", "pull_requests": "read"})
	key := h.openBuilt(7)
	if p := h.preview(key); p.Status != store.StatusReady {
		t.Fatalf("preview: %+v", p)
	}
	if len(h.gh.Deployments(owner, repo)) != 0 || len(h.ourComments(7)) != 0 {
		t.Fatal("wrote without permission?")
	}
	h.update(7, func(pr *store.PullRequest) { pr.Closed = true })
	h.mustSettle(key)
	if p := h.preview(key); p.Status != store.StatusDeleted || len(h.cloud.Projects()) != 0 {
		t.Fatalf("after close: %+v", p)
	}
}

func TestRenamedTemplateDeletesTheOldApp(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.openBuilt(7)
	h.gh.SetFile(owner, repo, "main", cfgPath, strings.Replace(baseConfig, "{repo}-pr-{pr}", "{repo}-preview-{pr}", 1))
	h.clock.Advance(2 * configCacheTTL)
	h.update(7, func(pr *store.PullRequest) { pr.HeadSHA = sha(7, 2) })
	h.mustSettle(key)
	projs := h.cloud.Projects()
	if len(projs) != 1 || projs[0].Name != "shop-preview-7" {
		t.Fatalf("projects after the rename: %+v", projs)
	}
	if p := h.preview(key); p.AppName != "shop-preview-7" || p.Status != store.StatusReady {
		t.Fatalf("preview: %+v", p)
	}
}
