// Package reconcile is the webhook service's level-triggered reconciler: it
// brings one pull request's Hasura Cloud preview in line with the PR's
// desired state as the intake recorded it, one short step per call, and a
// periodic Sweeper finds work nobody asked for (closed PRs whose preview
// survived, expired previews, apps deleted by hand, lost jobs).
//
// Every call of Reconcile loads the desired state (store.PullRequest), the
// actual state (store.Preview, with this package's own state in its
// RunState) and the installation's GitHub pause, then asks next (next.go),
// a pure function of those values, what to do. When next needs a fact that
// costs I/O (a permission, the configuration, the changed files, the cap's
// count) it says so, the pass fetches it and asks again; otherwise the
// pass carries out the step and saves. A call never sleeps: while the
// Cloud builds it returns how long to wait, and the jobs package snoozes
// the job for that long. next_test.go has a row per rule:
//
//  1. The PR is gone from the Store: nothing to do. No installation:
//     nothing to act with. Uninstalled (confirmed with GitHub): delete the
//     preview without talking to GitHub.
//  2. A pending command ("/preview rebuild", "/preview delete", the rebuild
//     checkbox) is honoured only when its author may write to the
//     repository; otherwise the author gets a short reply. Either way the
//     command is cleared, and a ticked checkbox is unticked.
//  3. The configuration comes from the repository's DEFAULT branch (cached
//     a minute), never from the PR's base branch, which anyone who can
//     push a branch can choose. No file: the repository does not take
//     part. A broken file: one comment that quotes the problems.
//  4. Wanted state: deleted when the PR is closed, the repository is not
//     configured, someone asked, the TTL passed, or the policy (drafts,
//     required label, forks, path filter, judged on the PR as it is now)
//     says no; built otherwise.
//  5. A new build starts when there is no preview, the head moved, a
//     rebuild was asked for, or the app vanished. A cap per installation
//     queues the rest in order of arrival, under a lease in the store.
//
// GitHub's rate limit is per installation (budget.go). Short of it, only
// final states are shown. Once it is spent, the installation's GitHub calls
// pause until the reset, for every replica (the pause is in the store):
// its passes snooze, except that a closed PR's preview is still deleted
// and builds in flight are still followed in the Cloud; what they owe
// GitHub (state.Reported) is shown after the reset.
//
// Every change of state is saved before the next outward action, so a
// restart resumes where the previous process stopped; the one thing a
// crash can cost is a second create of the same app, which the Cloud
// treats as a rebuild.
package reconcile
