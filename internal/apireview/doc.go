// Package apireview tells a reviewer what a pull request changes in a
// Hasura project's GraphQL API: tables, relationships, permissions (and
// whether a role now reaches more rows or columns), actions, remote
// schemas, triggers, REST endpoints, the allow list and new migrations
// (with destructive statements flagged).
//
// It reads a Hasura CLI project from an fs.FS and never does I/O of its
// own, so the action and the webhook service can feed it a checkout or an
// archive fetched from GitHub. Its input is untrusted: every file is size
// capped, YAML aliases and !include fan-out are bounded by a node budget,
// includes may not leave the metadata directory, and every problem becomes
// a line in the report instead of an error.
package apireview
