// Package apireview tells a reviewer what a pull request changes in a
// Hasura project's GraphQL API (tables, relationships, permissions and
// whether a role now reaches more, actions, remote schemas, triggers, REST
// endpoints, the allow list) and which new migrations are destructive.
//
// It reads a Hasura CLI project from an fs.FS without I/O of its own. The
// input is untrusted: files are size capped, YAML aliases and !include
// fan-out bounded by a node budget, includes kept inside the metadata
// directory, and every problem is a line in the report, not an error.
package apireview
