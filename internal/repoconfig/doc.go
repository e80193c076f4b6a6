// Package repoconfig reads .github/hasura-preview.yml, the per-repository
// configuration of the hasura-preview GitHub App; testdata/full.yml is the
// full example, every key commented.
//
// The file is read from the pull request's BASE branch, never its head: a
// pull request must not change its own policy or pick which of the
// service's secrets it receives. A repository takes part only when the
// file exists; an empty file means every default.
//
// Parse decodes with yaml.v3 and KnownFields, so a misspelt key is an
// error. Every problem is reported at once in an *Error whose messages
// name the line and the key ("line 7: unknown key `directroy` (did you
// mean `directory`?)") and never a secret value, so they can be posted on
// the pull request as they are. Resolve looks the secrets up in the
// service's environment (only under its prefix) and returns what the
// reconciler needs.
package repoconfig
