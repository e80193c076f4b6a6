package reconcile

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/repoconfig"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

var nextNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// readyFacts is an open PR whose preview was built from its head an hour
// ago and is ready: next leaves it as it is.
func readyFacts() facts {
	env := []preview.EnvVar{{Key: "HASURA_GRAPHQL_ENABLE_CONSOLE", Value: "true"}}
	return facts{
		pr: &store.PullRequest{
			Key: "octo/shop#7", InstallationID: 42, Number: 7, BaseOwner: "octo", BaseRepo: "shop", BaseRef: "main",
			HeadOwner: "octo", HeadRepo: "shop", Branch: "feature", HeadSHA: "bbb", Generation: 2,
		},
		p: &store.Preview{Key: "octo/shop#7", Status: store.StatusReady, AppName: "octo-shop-7", BuiltSHA: "bbb", TenantID: "tenant-1"},
		s: &state{
			Run:      &preview.Run{Result: preview.Result{Name: "octo-shop-7", Status: preview.StatusSuccess}},
			BuildGen: 2, BuildSHA: "bbb", Builds: 1, BuiltAt: nextNow.Add(-time.Hour), EnvSig: preview.EnvSig("", env),
		},
		res:       repoconfig.Resolved{Env: env, Policy: preview.Policy{SkipDrafts: true, ProjectDir: "hasura"}},
		name:      "octo-shop-7",
		connected: true, configRead: true,
		now: nextNow,
	}
}

func ptr[T any](v T) *T { return &v }

func wantUntil(until time.Time) func(*testing.T, step) {
	return func(t *testing.T, st step) {
		if !st.until.Equal(until) {
			t.Errorf("until %v, want %v", st.until, until)
		}
	}
}

// TestNext has one row per rule of doc.go's "What a call decides", the
// GitHub pause, the facts next asks for, and the rules of keeping a built
// preview current: the env applied in place, a rotated secret, the TTL
// warning.
func TestNext(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		change func(f *facts)
		want   stepKind
		// reason, when set, is a part of the step's reason.
		reason string
		check  func(t *testing.T, st step)
	}{
		// 1. Gone, uninstalled, or no installation.
		{name: "no installation: nothing to act with", change: func(f *facts) { f.pr.InstallationID = 0 }, want: stepSettle},
		{name: "uninstalled: GitHub confirms first", change: func(f *facts) { f.pr.Uninstalled, f.connected = true, false },
			want: stepCheckInstalled},
		{name: "uninstalled, confirmed: remove without GitHub", change: func(f *facts) {
			f.pr.Uninstalled, f.gone, f.connected, f.configRead = true, true, false, false
		}, want: stepRemove, reason: uninstalledReason},
		{name: "uninstalled, but GitHub says installed: carry on", change: func(f *facts) { f.pr.Uninstalled, f.installed = true, true },
			want: stepSteady},
		{name: "the installation is gone: remove", change: func(f *facts) { f.gone, f.connected, f.configRead = true, false, false },
			want: stepRemove, reason: uninstalledReason},
		{name: "GitHub is needed: connect", change: func(f *facts) { f.connected, f.configRead = false, false }, want: stepConnect},
		{name: "a PR known only from a comment: read it", change: func(f *facts) { f.pr.HeadSHA, f.configRead = "", false }, want: stepFillHead},
		{name: "a PR GitHub does not know: nothing to do", change: func(f *facts) {
			f.pr.HeadSHA, f.headGone, f.configRead = "", true, false
		}, want: stepSettle},

		// 2. Commands are honoured only for writers.
		{name: "a command: its author's permission first", change: func(f *facts) {
			f.pr.Command, f.configRead = &store.Command{Kind: store.CommandRebuild, Actor: "bob"}, false
		}, want: stepCheckWriter},
		{name: "a writer's command: honoured", change: func(f *facts) {
			f.pr.Command, f.writer, f.configRead = &store.Command{Kind: store.CommandDelete, Actor: "alice"}, ptr(true), false
		}, want: stepCommand, check: func(t *testing.T, st step) {
			if !st.accept {
				t.Error("a writer's command refused")
			}
		}},
		{name: "a reader's command: refused", change: func(f *facts) {
			f.pr.Command, f.writer, f.configRead = &store.Command{Kind: store.CommandRebuild, Actor: "bob"}, ptr(false), false
		}, want: stepCommand, check: func(t *testing.T, st step) {
			if st.accept {
				t.Error("a reader's command honoured")
			}
		}},

		// The configuration is read once the commands are done.
		{name: "configuration not read yet: read it", change: func(f *facts) { f.configRead = false }, want: stepLoadConfig},
		{name: "configuration unreadable for now: retry", change: func(f *facts) { f.readErr = errors.New("502") }, want: stepRetry,
			check: func(t *testing.T, st step) {
				if st.err == nil || st.err.Error() != "502" {
					t.Errorf("err %v", st.err)
				}
			}},
		{name: "configuration unreadable, PR closed: remove all the same", change: func(f *facts) {
			f.pr.Closed, f.readErr = true, errors.New("502")
		}, want: stepRemove, reason: "closed"},

		// GitHub's rate limit is spent: the installation's GitHub calls pause.
		{name: "paused: wait until it resumes", change: func(f *facts) {
			f.paused, f.connected, f.configRead = nextNow.Add(time.Hour), false, false
		}, want: stepWait, check: wantUntil(nextNow.Add(time.Hour))},
		{name: "paused with a command pending: it waits too", change: func(f *facts) {
			f.paused, f.pr.Command = nextNow.Add(time.Hour), &store.Command{Kind: store.CommandRebuild, Actor: "alice"}
		}, want: stepWait},
		{name: "paused, PR closed with a live preview: the configuration as last read", change: func(f *facts) {
			f.paused, f.pr.Closed, f.configRead = nextNow.Add(time.Hour), true, false
		}, want: stepLoadConfig, check: wantUntil(nextNow.Add(time.Hour))},
		{name: "paused, PR closed with a live preview: deleted all the same", change: func(f *facts) {
			f.paused, f.pr.Closed = nextNow.Add(time.Hour), true
		}, want: stepRemove, reason: "closed", check: wantUntil(nextNow.Add(time.Hour))},
		{name: "paused, PR closed, preview gone: wait", change: func(f *facts) {
			f.paused, f.pr.Closed, f.p.Status = nextNow.Add(time.Hour), true, store.StatusDeleted
		}, want: stepWait},
		{name: "paused, build in flight: followed in the Cloud", change: func(f *facts) {
			f.paused, f.p.Status, f.s.Run.Result.Status = nextNow.Add(time.Hour), store.StatusBuilding, preview.StatusCreating
		}, want: stepPoll, check: wantUntil(nextNow.Add(time.Hour))},
		{name: "paused, build in flight for an older head: wait", change: func(f *facts) {
			f.paused, f.p.Status, f.s.Run.Result.Status, f.pr.HeadSHA = nextNow.Add(time.Hour), store.StatusBuilding, preview.StatusCreating, "ccc"
		}, want: stepWait},
		{name: "paused, build in flight but a rebuild is due: wait", change: func(f *facts) {
			f.paused, f.p.Status, f.s.Run.Result.Status, f.s.Redo = nextNow.Add(time.Hour), store.StatusBuilding, preview.StatusCreating, redoDrifted
		}, want: stepWait},

		{name: "an up-to-date preview stays", want: stepSteady, check: func(t *testing.T, st step) {
			if st.recordEnv || st.warnTTL {
				t.Errorf("steady step asks for more: %+v", st)
			}
		}},

		// 4. Wanted state: deleted when the PR is closed...
		{name: "closed PR: remove", change: func(f *facts) { f.pr.Closed = true }, want: stepRemove, reason: "The pull request was closed."},
		{name: "merged PR: remove", change: func(f *facts) { f.pr.Closed, f.pr.Merged = true, true }, want: stepRemove, reason: "The pull request was merged."},
		{name: "closed PR whose configuration is broken: remove all the same", change: func(f *facts) {
			f.pr.Closed, f.cfgErr = true, &repoconfig.Error{Problems: []repoconfig.Problem{{Message: "bad"}}}
		}, want: stepRemove, reason: "closed"},

		// 3. No file: the repository does not take part. A broken file: its problems, nothing built.
		{name: "no configuration file: remove", change: func(f *facts) { f.cfgErr = repoconfig.ErrNotConfigured },
			want: stepRemove, reason: "The repository has no " + repoconfig.Path + " on its default branch."},
		{name: "broken configuration: its problems, nothing built", change: func(f *facts) {
			f.cfgErr = &repoconfig.Error{Problems: []repoconfig.Problem{{Message: "region is unknown"}}}
		}, want: stepBadConfig, check: func(t *testing.T, st step) {
			if st.problems == nil || len(st.problems.Problems) != 1 || st.problems.Problems[0].Message != "region is unknown" {
				t.Errorf("problems %+v", st.problems)
			}
			if st.ttl != nil {
				t.Error("a broken configuration set the TTL marks")
			}
		}},
		{name: "unreadable configuration: quoted as a problem", change: func(f *facts) { f.cfgErr = errors.New("name template: unknown variable") },
			want: stepBadConfig, check: func(t *testing.T, st step) {
				if st.problems == nil || st.problems.Problems[0].Message != "name template: unknown variable" {
					t.Errorf("problems %+v", st.problems)
				}
			}},

		// 4. ... someone asked, the TTL passed ...
		{name: "deleted on request: stays deleted for the head", change: func(f *facts) {
			f.p.Status, f.s.Hold = store.StatusDeleted, &hold{SHA: "bbb", Kind: holdCommand, By: "alice"}
		}, want: stepRemove, reason: "Deleted on request by alice."},
		{name: "deleted on request, then a push: built again", change: func(f *facts) {
			f.p.Status, f.s.Hold = store.StatusDeleted, &hold{SHA: "aaa", Kind: holdCommand}
		}, want: stepStart, reason: "there is no preview"},
		{name: "TTL passed: remove and hold the head", change: func(f *facts) { f.ttl = 30 * time.Minute },
			want: stepRemove, reason: "The preview expired (it is kept for 30m0s after its last build)", check: func(t *testing.T, st step) {
				if !st.holdTTL {
					t.Error("expiry does not hold the head")
				}
				if st.ttl == nil || !st.ttl.expiresAt.Equal(nextNow.Add(-30*time.Minute)) || st.ttl.keepLabel != defaultKeepLabel {
					t.Errorf("ttl marks %+v", st.ttl)
				}
			}},
		{name: "the repository's TTL overrides the service's", change: func(f *facts) {
			f.ttl, f.res.TTL = 30*time.Minute, ptr(48*time.Hour)
		}, want: stepSteady, check: func(t *testing.T, st step) {
			if st.ttl == nil || !st.ttl.expiresAt.Equal(nextNow.Add(47*time.Hour)) {
				t.Errorf("ttl marks %+v", st.ttl)
			}
		}},
		{name: "TTL passed, but the keep label protects it", change: func(f *facts) {
			f.ttl, f.res.KeepLabel, f.pr.Labels = 30*time.Minute, "keep-me", []string{"Keep-Me"}
		}, want: stepSteady},
		{name: "expired earlier, same head: stays deleted", change: func(f *facts) {
			f.ttl, f.p.Status, f.s.Hold = 30*time.Minute, store.StatusDeleted, &hold{SHA: "bbb", Kind: holdTTL}
		}, want: stepRemove, reason: "The preview expired", check: func(t *testing.T, st step) {
			if st.holdTTL {
				t.Error("a preview that is gone was held again")
			}
		}},
		{name: "expired earlier, the keep label added: built again", change: func(f *facts) {
			f.p.Status, f.s.Hold, f.pr.Labels = store.StatusDeleted, &hold{SHA: "bbb", Kind: holdTTL}, []string{"preview"}
		}, want: stepStart},
		{name: "TTL warning due", change: func(f *facts) { f.ttl, f.warning = 2*time.Hour, 90*time.Minute }, want: stepSteady,
			check: func(t *testing.T, st step) {
				if !st.warnTTL {
					t.Error("warning not due")
				}
			}},
		{name: "TTL warning already given", change: func(f *facts) {
			f.ttl, f.warning, f.p.TTLWarnedAt = 2*time.Hour, 90*time.Minute, nextNow.Add(-time.Minute)
		}, want: stepSteady, check: func(t *testing.T, st step) {
			if st.warnTTL {
				t.Error("warned twice")
			}
		}},

		// 4. ... or the policy says no, judged on the PR as it is now.
		{name: "draft: remove", change: func(f *facts) { f.pr.Draft = true }, want: stepRemove, reason: "Draft"},
		{name: "required label missing: remove", change: func(f *facts) { f.res.Policy.RequireLabel = "preview" },
			want: stepRemove, reason: `label is required`},
		{name: "fork: remove", change: func(f *facts) { f.pr.HeadOwner = "mallory" }, want: stepRemove, reason: "fork"},
		{name: "path filter: the files are listed first", change: func(f *facts) { f.res.Policy.OnlyWhenDirChanged = true }, want: stepListFiles},
		{name: "path filter: nothing changed in the project", change: func(f *facts) {
			f.res.Policy.OnlyWhenDirChanged, f.files = true, []string{"docs/readme.md"}
		}, want: stepRemove},
		{name: "path filter: the project changed", change: func(f *facts) {
			f.res.Policy.OnlyWhenDirChanged, f.files = true, []string{"hasura/metadata/tables.yaml"}
		}, want: stepSteady},

		// 5. A new build starts when there is no preview, the head moved, a
		// rebuild was asked for, or the app vanished.
		{name: "no preview: start", change: func(f *facts) { f.p.Status, f.s.Run = store.StatusNone, nil }, want: stepStart, reason: "there is no preview"},
		{name: "head moved: start", change: func(f *facts) { f.pr.HeadSHA = "ccc" }, want: stepStart, reason: "the head moved"},
		{name: "rebuild asked for: start", change: func(f *facts) { f.s.Redo = redoAsked }, want: stepStart, reason: "rebuild"},
		{name: "app vanished: start", change: func(f *facts) { f.s.Redo = redoDrifted }, want: stepStart, reason: "vanished"},
		{name: "build under way: poll", change: func(f *facts) {
			f.p.Status, f.s.Run.Result.Status = store.StatusBuilding, preview.StatusCreating
		}, want: stepPoll},
		{name: "create maybe sent before a crash: send it again", change: func(f *facts) {
			f.p.Status, f.s.Run = store.StatusBuilding, nil
		}, want: stepStart, reason: "crash"},
		{name: "head moved during a build: start over", change: func(f *facts) {
			f.p.Status, f.s.Run.Result.Status, f.pr.HeadSHA = store.StatusBuilding, preview.StatusCreating, "ccc"
		}, want: stepStart, reason: "head moved during a build"},
		{name: "rebuild asked for during a build: start over", change: func(f *facts) {
			f.p.Status, f.s.Run.Result.Status, f.s.Redo = store.StatusBuilding, preview.StatusCreating, redoAsked
		}, want: stepStart},
		{name: "name template changed: the old app goes first", change: func(f *facts) { f.name = "shop-pr-7" }, want: stepRename},

		// 5. A cap per installation queues the rest in order of arrival.
		{name: "cap: the slots are counted first", change: func(f *facts) { f.capacity, f.p.Status = 2, store.StatusNone }, want: stepCountSlots},
		{name: "cap: a free slot", change: func(f *facts) {
			f.capacity, f.p.Status, f.slots = 2, store.StatusNone, &slotCount{running: 1}
		}, want: stepStart},
		{name: "cap: full, waits in line", change: func(f *facts) {
			f.capacity, f.p.Status, f.slots = 2, store.StatusNone, &slotCount{running: 1, ahead: 2, queuedAt: nextNow}
		}, want: stepQueue, check: func(t *testing.T, st step) {
			if st.running != 1 || st.limit != 2 || st.position != 3 || !st.queuedAt.Equal(nextNow) {
				t.Errorf("queue step %+v, want 1 running of 2, third in line since now", st)
			}
		}},
		{name: "cap: the one free slot goes to the PR ahead", change: func(f *facts) {
			f.capacity, f.p.Status, f.slots = 2, store.StatusQueued, &slotCount{running: 1, ahead: 1}
		}, want: stepQueue, check: func(t *testing.T, st step) {
			if st.position != 2 {
				t.Errorf("position %d, want 2", st.position)
			}
		}},
		{name: "cap: a queued preview whose turn came", change: func(f *facts) {
			f.capacity, f.p.Status, f.slots = 2, store.StatusQueued, &slotCount{running: 1}
		}, want: stepStart, reason: "waits for a slot"},
		{name: "cap: a preview holding a slot rebuilds without counting", change: func(f *facts) {
			f.capacity, f.pr.HeadSHA = 1, "ccc"
		}, want: stepStart},

		// Keeping a built preview current (build.go).
		{name: "only the env changed: applied in place", change: func(f *facts) {
			f.res.Env = []preview.EnvVar{{Key: "HASURA_GRAPHQL_ENABLE_CONSOLE", Value: "false"}}
		}, want: stepUpdateEnv},
		{name: "env changed, but no tenant to update: stays", change: func(f *facts) {
			f.p.TenantID, f.res.Env = "", []preview.EnvVar{{Key: "X", Value: "y"}}
		}, want: stepSteady},
		{name: "a rotated secret that changed the env, with no tenant to update: not recorded as applied", change: func(f *facts) {
			f.p.TenantID, f.secretsRotated, f.res.Env = "", true, []preview.EnvVar{{Key: "X", Value: "rotated"}}
		}, want: stepSteady,
			check: func(t *testing.T, st step) {
				if st.recordEnv {
					t.Error("an env the app did not get is recorded as its env")
				}
			}},
		{name: "a secret the env no longer uses rotated: noted", change: func(f *facts) { f.secretsRotated = true }, want: stepSteady,
			check: func(t *testing.T, st step) {
				if !st.recordEnv {
					t.Error("the rotation is not noted")
				}
			}},
		{name: "the env's secrets come from other variables: noted", change: func(f *facts) { f.res.SecretVars = []string{"HP_SECRET_X"} },
			want: stepSteady, check: func(t *testing.T, st step) {
				if !st.recordEnv {
					t.Error("the new secret variables are not noted")
				}
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := readyFacts()
			if tt.change != nil {
				tt.change(&f)
			}
			pr, p, s, res := *f.pr, *f.p, string(f.s.encode()), f.res
			st := next(f)
			if st.kind != tt.want {
				t.Fatalf("next = %s (%q), want %s", st.kind, st.reason, tt.want)
			}
			if !strings.Contains(st.reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", st.reason, tt.reason)
			}
			if !reflect.DeepEqual(pr, *f.pr) || !reflect.DeepEqual(p, *f.p) || s != string(f.s.encode()) || !reflect.DeepEqual(res, f.res) {
				t.Error("next changed its input")
			}
			if tt.check != nil {
				tt.check(t, st)
			}
		})
	}
}

// TestAfterRun covers what a build that is over leads to, including the
// one automatic rebuild after the Cloud's first-run error.
func TestAfterRun(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		res  preview.Result
		auto string // AutoRebuildSHA
		want runOver
	}{
		{"success", preview.Result{Status: preview.StatusSuccess}, "", runConclude},
		{"failure", preview.Result{Status: preview.StatusFailed}, "", runConclude},
		{"superseded by another create", preview.Result{Status: preview.StatusSuperseded}, "", runSuperseded},
		{"first-run error: rebuilt once", preview.Result{Status: preview.StatusFailed, FirstRunFailure: true}, "", runAutoRebuild},
		{"first-run error of an earlier commit: rebuilt once", preview.Result{Status: preview.StatusFailed, FirstRunFailure: true}, "aaa", runAutoRebuild},
		{"first-run error again after the rebuild: failed", preview.Result{Status: preview.StatusFailed, FirstRunFailure: true}, "bbb", runConclude},
	} {
		s := &state{BuildSHA: "bbb", AutoRebuildSHA: tt.auto, Run: &preview.Run{Result: tt.res}}
		if got := afterRun(s, false); got != tt.want {
			t.Errorf("%s: afterRun = %d, want %d", tt.name, got, tt.want)
		}
	}
	s := &state{BuildSHA: "bbb", Run: &preview.Run{Result: preview.Result{Status: preview.StatusFailed, FirstRunFailure: true}}}
	if got := afterRun(s, true); got != runConclude {
		t.Errorf("first-run error while GitHub is paused: afterRun = %d, want the failure recorded", got)
	}
}
