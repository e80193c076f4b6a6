// Package repoconfig reads .github/hasura-preview.yml, the per-repository
// configuration of the hasura-preview GitHub App.
//
// The file is read from the pull request's BASE branch (Fetch takes the
// base ref), never from its head: a pull request must not be able to
// change its own policy or pick which of the service's secrets it
// receives. A repository takes part only when the file exists, so that
// installing the App on an organisation creates no Cloud project for
// repositories without a Hasura project; an empty file means every
// default. The full example, every key commented, is testdata/full.yml:
//
//	directory: hasura            # Hasura project dir; "." is the root
//	name: "{repo}-{hash}-pr-{pr}" # {owner} {repo} {hash} {pr} {branch}; needs {pr} or {branch}
//	cloud: aws                   # aws | gcp
//	region: us-west-1
//	plan: cloud_free             # cloud_free | cloud_payg
//	env:                         # plain values, public like the repository
//	  HASURA_GRAPHQL_ENABLE_CONSOLE: "true"
//	secrets:                     # app variable -> NAME, read as <SECRET_ENV_PREFIX><OWNER>__NAME
//	                             # (SECRET_SCOPE=owner, the default) or <SECRET_ENV_PREFIX>NAME (shared)
//	  HASURA_GRAPHQL_JWT_SECRET: CLERK_JWT
//	postgres:                    # optional ephemeral database per preview
//	  server_secret: PG_SERVER   # NAME of a secret holding a postgres:// URL
//	  env_vars: [PG_DATABASE_URL]
//	  per_env_var: false
//	policy:
//	  skip_drafts: true
//	  require_label: ""          # e.g. preview
//	  only_when_changed: false   # only when files under directory changed
//	  allow_forks: false
//	ttl: 168h                    # overrides the service's PREVIEW_TTL; "0" disables
//	keep_label: preview          # a pull request with this label is never TTL-deleted
//
// Parse decodes with yaml.v3 and KnownFields, so a misspelt key is an
// error, not a silently ignored setting. Every problem is reported at once
// in an *Error whose messages name the line and the key ("line 7: unknown
// key `directroy` (did you mean `directory`?)") and never a secret value,
// so the reconciler can post them on the pull request as they are.
//
// Resolve turns a Config into what the reconciler needs: preview.EnvVars
// with the secrets looked up in the service's environment (only under its
// prefix), a *pgdb.Config, a preview.Policy. Secret names must match
// [A-Z0-9_]+; a missing secret is reported by NAME.
package repoconfig
