// Package preview is the domain: what a pull request's preview app should
// be, and the steps that make Hasura Cloud agree.
//
// Decide turns a pull request event and a Policy into a Plan (ensure,
// destroy or skip, with a reason a person can read); it does no I/O.
// Engine carries a Plan out against the Cloud API: Start and Step build or
// rebuild an app one poll at a time (the webhook service saves the Run
// between steps), Ensure and Follow do the same in a loop (the Action),
// UpdateEnv changes a running app's variables, and Destroy deletes an app,
// a missing one counting as done. The naming rules (AppName, ValidName),
// the environment parser (ParseEnv) and the Masker of secrets in Cloud
// output live here too, so that the Action and the service agree on them.
//
// Nothing here knows GitHub or serves HTTP: callers report a Result.
package preview
