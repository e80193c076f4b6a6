package reconcile

import (
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

// closeKey records a close of the PR key (a repository other than the
// harness's owner/repo) as the intake would.
func (h *harness) closeKey(key string) {
	h.t.Helper()
	pr, err := h.st.GetPR(h.ctx, key)
	if err != nil {
		h.t.Fatal(err)
	}
	pr.Closed = true
	h.record(pr, false)
}

// An admin of another account installs the same App: evil/shop#7 must
// neither rebuild nor delete acme/shop#7's preview, and acme/web.shop#3
// and acme/web-shop#3, which normalise alike, must get apps of their own.
// The service's default name carries a hash of owner/repo for that.
func TestDefaultNamesKeepRepositoriesApart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	const evilInst = 666
	const dotInst, dashInst = 667, 668
	h.gh.AddInstallation(appID, evilInst, "evil", []string{"shop"})
	h.gh.AddInstallation(appID, dotInst, "acme", []string{"web.shop"})
	h.gh.AddInstallation(appID, dashInst, "acme", []string{"web-shop"})
	// No name: the service's default template.
	const cfg = "directory: hasura\n"
	acme := h.openInConfigured(instID, owner, repo, 7, cfg)
	evil := h.openInConfigured(evilInst, "evil", "shop", 7, cfg)
	dot := h.openInConfigured(dotInst, "acme", "web.shop", 3, cfg)
	dash := h.openInConfigured(dashInst, "acme", "web-shop", 3, cfg)
	for _, k := range []string{acme, evil, dot, dash} {
		h.mustSettle(k)
	}
	names := map[string]bool{}
	for _, k := range []string{acme, evil, dot, dash} {
		p := h.preview(k)
		if p.Status != store.StatusReady {
			t.Fatalf("%s: %s %s", k, p.Status, p.LastError)
		}
		names[p.AppName] = true
	}
	if len(names) != 4 || len(h.cloud.Projects()) != 4 {
		t.Fatalf("apps %v, projects %d: want four apart", names, len(h.cloud.Projects()))
	}
	if want := "shop-" + preview.RepoHash("acme", "shop") + "-pr-7"; h.preview(acme).AppName != want {
		t.Errorf("acme's app is %s, want %s", h.preview(acme).AppName, want)
	}

	acmeApp := h.preview(acme).AppName
	h.closeKey(evil)
	h.mustSettle(evil)
	if _, ok := h.cloud.Project(acmeApp); !ok {
		t.Fatal("closing evil/shop#7 deleted acme/shop#7's app")
	}
}

// A template that names another live preview's app is refused: nothing is
// built, and a close of the refused PR deletes nothing.
func TestANameInUseIsNotTaken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	acme := h.openBuilt(7) // shop-pr-7, the harness's template
	const evilInst = 666
	h.gh.AddInstallation(appID, evilInst, "evil", []string{"shop"})
	h.gh.SetFile("evil", "shop", "main", cfgPath, "directory: hasura\nname: \"shop-pr-{pr}\"\n")
	evil := h.openIn(evilInst, "evil", "shop", 7)
	h.mustSettle(evil)
	p := h.preview(evil)
	if p.Status != store.StatusFailed || !strings.Contains(p.LastError, "already used by the preview of "+acme) {
		t.Fatalf("evil's preview: %s %q", p.Status, p.LastError)
	}
	if info, _ := h.cloud.Project("shop-pr-7"); info.Builds != 1 || h.creates() != 1 {
		t.Errorf("acme's app was rebuilt by evil's PR: %d builds, %d creates", info.Builds, h.creates())
	}
	h.closeKey(evil)
	h.mustSettle(evil)
	if _, ok := h.cloud.Project("shop-pr-7"); !ok {
		t.Fatal("closing evil's refused PR deleted acme's app")
	}
	if p := h.preview(acme); p.Status != store.StatusReady {
		t.Errorf("acme's preview: %s", p.Status)
	}
}

// Anyone who can push a branch can open a pull request against it: the
// configuration (which names the secrets put into the app) is read from the
// repository's default branch, never from the PR's base branch.
func TestConfigComesFromTheDefaultBranch(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.gh.SetFile(owner, repo, "attacker-base", cfgPath,
		"directory: evil\nname: \"{repo}-pr-{pr}\"\nsecrets:\n  LEAKED_TO_MY_METADATA: ADMIN\n")
	key := h.open(9, nil)
	h.update(9, func(pr *store.PullRequest) { pr.BaseRef = "attacker-base" })
	h.mustSettle(key)
	p, ok := h.cloud.Project("shop-pr-9")
	if !ok || p.Directory != "hasura" || p.Env["LEAKED_TO_MY_METADATA"] != "" {
		t.Fatalf("built from the base branch's configuration: %+v", p)
	}
}
