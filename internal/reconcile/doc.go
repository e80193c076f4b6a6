// Package reconcile is the webhook service's level-triggered reconciler: it
// brings one pull request's Hasura Cloud preview in line with the PR's
// desired state as the intake recorded it, one short step per call, and a
// periodic Sweeper that finds work nobody asked for (closed PRs whose
// preview survived, expired previews, previews deleted by hand in the
// Cloud console, jobs that got lost).
//
// Every call of Reconcile reads the desired state (store.PullRequest) and
// the actual state (store.Preview, with this package's own record in its
// RunState) afresh and decides from them alone, so a missed or repeated
// delivery, a crash between two steps or two quick pushes all end in the
// same place. A call never sleeps: while the Cloud builds it returns how
// long to wait, and the jobs package snoozes the job for that long.
//
// What a call decides, in order (rules 1 and 2 in Reconcile, which loads
// the PR, the preview and the configuration; rules 3 to 5, and keeping a
// built preview current, in next.go's next, a pure function of those
// values that the pass asks and then carries out; next_test.go has a row
// per rule):
//
//  1. The PR is gone from the Store: nothing to do. Uninstalled: delete the
//     preview without talking to GitHub (the App has no access any more).
//  2. A pending command ("/preview rebuild", "/preview delete", the rebuild
//     checkbox) is honoured only when its author may write to the
//     repository; otherwise the author gets a short reply. Either way the
//     command is cleared, and a ticked checkbox is unticked.
//  3. The configuration comes from the repository's DEFAULT branch (cached
//     a minute per repository), never from the PR's base branch, which
//     anyone who can push a branch can choose. No file: the repository does not take part. A
//     broken file: one comment that quotes the problems, nothing built.
//  4. Wanted state: deleted when the PR is closed, the repository is not
//     configured, someone asked, the TTL passed, or the policy (drafts,
//     required label, forks, path filter, judged on the PR as it is now)
//     says no; built otherwise.
//  5. A new build starts when there is no preview, the head moved, a
//     rebuild was asked for, or the app vanished. A cap per installation
//     queues the rest in order of arrival.
//
// GitHub's rate limit is per installation. The reconciler reads the budget
// left off every answer (in memory, per installation). Short of it (under a
// tenth of the hourly limit), only final states are shown: no progress
// edits, no in_progress deployment status. Once it is spent (or GitHub asks
// for a longer wait than a pass may take), the installation's GitHub calls
// pause until the reset: its passes snooze until then without a request,
// except that builds in flight go on being followed in the Cloud; their
// final comment and deployment status are owed (state.Reported) and shown
// after the reset. A restarted process relearns a pause from GitHub's
// first refusal.
//
// Every change of state is saved before the next outward action, so a
// restart resumes where the previous process stopped; the one thing a
// crash can cost is a second create of the same app, which the Cloud
// treats as a rebuild.
package reconcile
