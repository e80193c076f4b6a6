// Package reconcile is the webhook service's level-triggered reconciler: it
// brings one pull request's Hasura Cloud preview one short step closer to
// the PR's desired state as the intake recorded it, and a periodic Sweeper
// finds work nobody asked for (closed PRs whose preview survived, expired
// previews, apps deleted by hand, lost jobs).
//
// Reconcile loads the desired state (store.PullRequest), the actual state
// (store.Preview, with this package's state in its RunState) and the
// installation's GitHub pause, then asks next (next.go), a pure function,
// what to do. When next needs a fact that costs I/O (a permission, the
// configuration, the changed files, the cap's count) the pass fetches it
// and asks again; otherwise it carries out the step and saves. A call
// never sleeps: while the Cloud builds it returns how long to wait, and
// jobs snoozes the job. next_test.go has a row per rule:
//
//  1. The PR is gone: nothing to do. No installation: nothing to act with.
//     Uninstalled (confirmed with GitHub): delete the preview without GitHub.
//  2. A command ("/preview rebuild", "/preview delete", the rebuild
//     checkbox) is honoured only when its author may write to the
//     repository, else answered; either way it is cleared and a ticked
//     checkbox unticked.
//  3. The configuration comes from the DEFAULT branch (cached a minute),
//     never from the PR's base branch, which anyone who can push chooses.
//     No file: the repository does not take part. A broken file: one
//     comment quoting the problems.
//  4. Deleted when the PR is closed, the repository is not configured,
//     someone asked, the TTL passed, or the policy (judged on the PR as it
//     is now) says no; built otherwise.
//  5. A build starts when there is no preview, the head moved, a rebuild
//     was asked for, or the app vanished; a cap per installation queues
//     the rest in order of arrival, under a lease in the store.
//
// GitHub's rate limit is per installation (budget.go): short of it, only
// final states are shown; once it is spent, the installation's GitHub calls
// pause until the reset in every replica (the pause is in the store). Its
// passes then snooze, except that a closed PR's preview is deleted and
// builds in flight are followed; what they owe GitHub (state.Reported) is
// shown after the reset.
//
// Every change of state is saved before the next outward action, so a
// restart resumes where the last process stopped; a crash can cost at most
// a second create of the same app, which the Cloud treats as a rebuild.
package reconcile
