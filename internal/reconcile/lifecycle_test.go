package reconcile

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/config"
	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

func latest(d ghsim.Deployment) string {
	if len(d.Statuses) == 0 {
		return ""
	}
	return d.Statuses[len(d.Statuses)-1].State
}

func TestLifecycleOpenSyncClose(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.openBuilt(7)

	p := h.preview(key)
	if p.Status != store.StatusReady || p.Endpoint == "" || p.BuiltSHA != sha(7, 1) || p.AppName != "shop-pr-7" {
		t.Fatalf("after open: %+v", p)
	}
	if n := h.creates(); n != 1 {
		t.Fatalf("creates after open = %d, want 1", n)
	}
	body := h.sticky(7)
	for _, want := range []string{"is ready", p.Endpoint, "Open the Hasura console", "Rebuild this preview", sha(7, 1)[:7]} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
	deps := h.gh.Deployments(owner, repo)
	if len(deps) != 1 || deps[0].Environment != ghreport.EnvironmentName("shop-pr-7") || deps[0].Ref != sha(7, 1) || latest(deps[0]) != "success" {
		t.Fatalf("deployments after open: %+v", deps)
	}
	if url := deps[0].Statuses[len(deps[0].Statuses)-1].EnvironmentURL; url != p.Endpoint {
		t.Errorf("environment_url = %q, want the endpoint %q", url, p.Endpoint)
	}
	proj, ok := h.cloud.Project("shop-pr-7")
	if !ok || proj.Env["HASURA_GRAPHQL_ADMIN_SECRET"] != "s3cret-admin" || proj.Directory != "hasura" || proj.Branch != "feature-7" {
		t.Fatalf("cloud project: %+v %v", proj, ok)
	}

	// The Cloud got a token narrowed to the one repository, contents:read.
	toks := h.createTokens()
	if len(toks) != 1 {
		t.Fatalf("tokens handed to the Cloud: %d", len(toks))
	}
	scope, ok := h.gh.TokenScope(toks[0])
	if !ok || !slices.Equal(scope.Repos, []string{owner + "/" + repo}) || scope.AllRepos ||
		len(scope.Permissions) != 2 || scope.Permissions["contents"] != "read" || scope.Permissions["metadata"] != "read" {
		t.Fatalf("the Cloud's token: %+v", scope)
	}
	narrowed := 0
	for _, m := range h.gh.MintedTokens() {
		if slices.Equal(m.Repos, []string{owner + "/" + repo}) && m.Permissions["contents"] == "read" && len(m.Permissions) == 2 {
			narrowed++
		}
	}
	if narrowed != 1 {
		t.Errorf("narrowed tokens minted: %d, want 1 per build", narrowed)
	}

	// A push: same comment, a new build and deployment.
	firstComment := h.ourComments(7)[0].ID
	h.update(7, func(pr *store.PullRequest) { pr.HeadSHA = sha(7, 2) })
	h.mustSettle(key)
	p = h.preview(key)
	if p.Status != store.StatusReady || p.BuiltSHA != sha(7, 2) || h.creates() != 2 {
		t.Fatalf("after push: %+v, creates %d", p, h.creates())
	}
	body = h.sticky(7)
	if h.ourComments(7)[0].ID != firstComment || !strings.Contains(body, sha(7, 2)[:7]) {
		t.Fatalf("the comment was not edited in place for the push:\n%s", body)
	}
	deps = h.gh.Deployments(owner, repo)
	if len(deps) != 2 || latest(deps[1]) != "success" || latest(deps[0]) != "inactive" {
		t.Fatalf("deployments after push: %d, states %q %q", len(deps), latest(deps[0]), latest(deps[len(deps)-1]))
	}

	// Closing deletes the app, says so and retires the deployments.
	h.update(7, func(pr *store.PullRequest) { pr.Closed = true })
	h.mustSettle(key)
	if p = h.preview(key); p.Status != store.StatusDeleted {
		t.Fatalf("after close: %+v", p)
	}
	if projs := h.cloud.Projects(); len(projs) != 0 {
		t.Fatalf("projects left after close: %+v", projs)
	}
	body = h.sticky(7)
	if !strings.Contains(body, "was deleted") || !strings.Contains(body, "The pull request was closed.") {
		t.Fatalf("comment after close:\n%s", body)
	}
	for _, d := range h.gh.Deployments(owner, repo) {
		if latest(d) != "inactive" {
			t.Errorf("deployment %d is %q after close", d.ID, latest(d))
		}
	}

	// Reconciling again changes nothing.
	writes := h.gh.Stats().ContentWrites()
	h.mustSettle(key)
	if h.creates() != 2 || h.gh.Stats().ContentWrites() != writes {
		t.Fatalf("a repeated reconcile acted: creates %d, writes %d→%d", h.creates(), writes, h.gh.Stats().ContentWrites())
	}
}

func TestQuickPushesCollapseIntoOneBuild(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.open(7, nil)
	h.update(7, func(pr *store.PullRequest) { pr.HeadSHA = sha(7, 2) })
	h.update(7, func(pr *store.PullRequest) { pr.HeadSHA = sha(7, 3) })
	h.mustSettle(key)
	if n := h.creates(); n != 1 {
		t.Fatalf("creates = %d, want 1 for three pushes before the first step", n)
	}
	if p := h.preview(key); p.BuiltSHA != sha(7, 3) || p.Status != store.StatusReady {
		t.Fatalf("preview: %+v", p)
	}
}

func TestPushDuringBuildStartsTheNewerBuild(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.open(7, nil)
	h.steps(key, 2)
	h.update(7, func(pr *store.PullRequest) { pr.HeadSHA = sha(7, 2) })
	h.mustSettle(key)
	p := h.preview(key)
	if p.Status != store.StatusReady || p.BuiltSHA != sha(7, 2) || h.creates() != 2 {
		t.Fatalf("preview %+v, creates %d", p, h.creates())
	}
	jobs := h.cloud.Jobs("shop-pr-7")
	if len(jobs) == 0 || jobs[0].Status != "skipped" {
		t.Fatalf("the older creation job should be skipped: %+v", jobs)
	}
	if body := h.sticky(7); !strings.Contains(body, sha(7, 2)[:7]) || !strings.Contains(body, "is ready") {
		t.Fatalf("comment:\n%s", body)
	}
	for i, d := range h.gh.Deployments(owner, repo) {
		if want := map[int]string{0: "inactive", 1: "success"}[i]; latest(d) != want {
			t.Errorf("deployment %d: %q, want %q", i, latest(d), want)
		}
	}
}

func TestCloseDuringCreateEndsDeleted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.open(7, nil)
	if again := h.steps(key, 1); again == 0 {
		t.Fatal("the build ended at once")
	}
	if p := h.preview(key); p.Status != store.StatusBuilding {
		t.Fatalf("after the first step: %+v", p)
	}
	h.update(7, func(pr *store.PullRequest) { pr.Closed = true })
	again, err := h.rec.Reconcile(h.ctx, key)
	if err != nil || again == 0 {
		t.Fatalf("delete during create: again %v, err %v", again, err)
	}
	if p := h.preview(key); p.Status != store.StatusDeleting {
		t.Fatalf("while the creation runs the preview should be deleting: %+v", p)
	}
	h.clock.Advance(again)
	h.mustSettle(key)
	if p := h.preview(key); p.Status != store.StatusDeleted {
		t.Fatalf("after close during create: %+v", p)
	}
	h.clock.Advance(30 * time.Minute)
	if projs := h.cloud.Projects(); len(projs) != 0 {
		t.Fatalf("orphan left in the Cloud: %+v", projs)
	}
	if body := h.sticky(7); !strings.Contains(body, "was deleted") {
		t.Fatalf("comment:\n%s", body)
	}
}

func TestRepositoryWithoutConfigTakesNoPart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{config: "-"})
	key := h.openBuilt(7)
	h.update(7, func(pr *store.PullRequest) { pr.Closed = true })
	h.mustSettle(key)
	if h.creates() != 0 || len(h.ourComments(7)) != 0 || len(h.gh.Deployments(owner, repo)) != 0 {
		t.Fatalf("creates %d, comments %d", h.creates(), len(h.ourComments(7)))
	}
	if p := h.preview(key); p.Active() {
		t.Fatalf("preview: %+v", p)
	}
}

func TestBadConfigCommentsOnceAndBuildsNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{config: "directory: hasura\ndirectroy: x\n"})
	key := h.open(7, nil)
	if err := h.settle(key); err != nil {
		t.Fatalf("a broken file must not fail the job: %v", err)
	}
	body := h.sticky(7)
	if !strings.Contains(body, "line 2") || !strings.Contains(body, "directroy") || !strings.Contains(body, "[!CAUTION]") {
		t.Fatalf("comment does not explain the problem:\n%s", body)
	}
	h.update(7, func(pr *store.PullRequest) { pr.Labels = []string{"bug"} })
	h.clock.Advance(2 * time.Minute)
	h.mustSettle(key)
	if n := h.gh.CountRequests("POST", "/comments") + h.gh.CountRequests("PATCH", "/comments"); n != 1 {
		t.Fatalf("comment writes = %d, want 1", n)
	}
	if h.creates() != 0 {
		t.Fatalf("creates = %d", h.creates())
	}

	// Fixing the file on the base branch builds on the next push.
	h.gh.SetFile(owner, repo, "main", cfgPath, baseConfig)
	h.clock.Advance(2 * time.Minute) // past the configuration cache
	h.update(7, func(pr *store.PullRequest) { pr.HeadSHA = sha(7, 2) })
	h.mustSettle(key)
	if p := h.preview(key); p.Status != store.StatusReady {
		t.Fatalf("after the fix: %+v", p)
	}
	if body := h.sticky(7); strings.Contains(body, "CAUTION") || !strings.Contains(body, "is ready") {
		t.Fatalf("comment after the fix:\n%s", body)
	}
}

func TestBuildFailureIsShownAndNotRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	// The Cloud's messages are shown as they come, except for secrets.
	h.cloud.FailTask("shop-pr-7", "apply-migration", "relation \"orders\" already exists (admin secret s3cret-admin)",
		"cloning https://x-access-token:ghs_0123456789abcdefghijABCDEFGHIJ@github.com/acme/shop failed")
	key := h.openBuilt(7)
	p := h.preview(key)
	if p.Status != store.StatusFailed || !strings.Contains(p.LastError, "apply-migration") {
		t.Fatalf("preview: %+v", p)
	}
	body := h.sticky(7)
	if !strings.Contains(body, "failed") || !strings.Contains(body, "already exists") || !strings.Contains(body, "cloning") {
		t.Fatalf("comment:\n%s", body)
	}
	if strings.Contains(body, "s3cret-admin") || strings.Contains(body, "ghs_") || !strings.Contains(body, "admin secret ***") {
		t.Fatalf("secrets in the comment:\n%s", body)
	}
	d := h.gh.Deployments(owner, repo)
	if len(d) != 1 || latest(d[0]) != "failure" || strings.Contains(d[0].Statuses[len(d[0].Statuses)-1].Description, "s3cret") {
		t.Fatalf("deployments: %+v", d)
	}
	h.update(7, func(pr *store.PullRequest) { pr.Labels = []string{"bug"} })
	h.mustSettle(key)
	if h.creates() != 1 {
		t.Fatalf("a label rebuilt a failed preview: creates %d", h.creates())
	}
}

// TestSecretsAreScopedToTheOwner: with SECRET_SCOPE=owner a repository's
// secret NAME resolves only under its own account's scope, and a missing
// one is named (scoped) in the comment, never another account's value.
func TestSecretsAreScopedToTheOwner(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{config: "directory: hasura\nsecrets:\n  STOLEN: OTHER_ORG_ADMIN\n  MINE: MISSING\n",
		settings: func(s *Settings) { s.SecretScope = config.SecretScopeOwner }})
	key := h.open(7, nil)
	if err := h.settle(key); err != nil {
		t.Fatal(err)
	}
	body := h.sticky(7)
	if !strings.Contains(body, "HP_SECRET_ACME__MISSING") || !strings.Contains(body, "HP_SECRET_ACME__OTHER_ORG_ADMIN") {
		t.Fatalf("the comment does not name the owner-scoped variables it looked for:\n%s", body)
	}
	if strings.Contains(body, "not-acme-s") || h.creates() != 0 {
		t.Fatalf("another account's secret was used (creates %d):\n%s", h.creates(), body)
	}
}

// TestSecretsAreScopedToTheRepository: by default a repository reads only
// its own secrets: the account-wide variable is not reached, and the
// comment names the repository's variable to set.
func TestSecretsAreScopedToTheRepository(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{config: "directory: hasura\nname: \"{repo}-pr-{pr}\"\nsecrets:\n  HASURA_GRAPHQL_ADMIN_SECRET: ADMIN\n  OTHER: ACCOUNT_ONLY\n"})
	h.setEnv(prefix+"ACME__ACCOUNT_ONLY", "account-wide-value")
	key := h.open(7, nil)
	if err := h.settle(key); err != nil {
		t.Fatal(err)
	}
	body := h.sticky(7)
	if !strings.Contains(body, repoScope+"ACCOUNT_ONLY") || h.creates() != 0 {
		t.Fatalf("the account's variable was read, or the repository's not named (creates %d):\n%s", h.creates(), body)
	}
	h.setEnv(repoScope+"ACCOUNT_ONLY", "repo-value")
	h.clock.Advance(2 * configCacheTTL)
	h.update(7, func(pr *store.PullRequest) { pr.HeadSHA = sha(7, 2) })
	h.mustSettle(key)
	if p, _ := h.cloud.Project("shop-pr-7"); p.Env["OTHER"] != "repo-value" || p.Env["HASURA_GRAPHQL_ADMIN_SECRET"] != "s3cret-admin" {
		t.Fatalf("env %v", p.Env)
	}
}

// TestSharedSecretsReadTheUnscopedName: SECRET_SCOPE=shared, for a
// service that serves one organisation.
func TestSharedSecretsReadTheUnscopedName(t *testing.T) {
	if got, err := SecretPrefix("P_", "my-Org"); got != "P_MY_ORG__" || err != nil {
		t.Fatalf("SecretPrefix = %q, %v", got, err)
	}
	for _, bad := range []string{"a_b", "a.b", "a--b", ""} {
		if got, err := SecretPrefix("P_", bad); err == nil {
			t.Errorf("SecretPrefix(%q) = %q: an account name GitHub does not allow must not map onto a scope", bad, got)
		}
	}
	dot, _ := RepoSecretPrefix("P_", "acme", "web.shop")
	dash, _ := RepoSecretPrefix("P_", "acme", "web-shop")
	if dot == dash || !strings.HasPrefix(dot, "P_ACME__WEB_SHOP_") {
		t.Errorf("web.shop and web-shop scopes: %q, %q", dot, dash)
	}
	t.Parallel()
	h := newHarness(t, harnessOptions{config: "directory: hasura\nname: \"{repo}-pr-{pr}\"\nsecrets:\n  HASURA_GRAPHQL_ADMIN_SECRET: SHARED_ADMIN\n",
		settings: func(s *Settings) { s.SecretScope = config.SecretScopeShared }})
	h.setEnv(prefix+"SHARED_ADMIN", "s3cret-shared")
	h.openBuilt(7)
	proj, ok := h.cloud.Project("shop-pr-7")
	if !ok || proj.Env["HASURA_GRAPHQL_ADMIN_SECRET"] != "s3cret-shared" {
		t.Fatalf("shared scope did not read %sSHARED_ADMIN: %+v", prefix, proj.Env)
	}
}
