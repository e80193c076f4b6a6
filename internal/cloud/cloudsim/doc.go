// Package cloudsim simulates the Hasura Cloud API: an http.Handler that
// answers POST /v1/graphql the way https://data.pro.hasura.io/v1/graphql
// does, so a client written against the real API (the official
// hasura/hasura-cloud-preview-apps action included) works against it
// unchanged.
//
// What it simulates:
//
//   - Authentication with "Authorization: pat <token>": a missing, wrong or
//     malformed token gets what the real Cloud answers, HTTP 200 and the
//     anonymous role's empty schema: "field \"<first root field>\" not
//     found in type: 'query_root'".
//   - GraphQL parsing (gqlparser) and Hasura-style validation over the
//     part of the schema a personal access token sees (columns no PAT
//     client reads, such as jobs.created_at or tasks.created_at, are
//     "field '…' not found in type: '…'"), with the real type names
//     (CreateGithubPreviewAppInputPayload, GithubRepoDetails,
//     ProjectOptions, UpdateEnvsObject and the distinct UpdateEnvObject,
//     PreviewAppResponse, TenantDeleteResponse, task_event): variables
//     with defaults, required variables, unexpected variables, declared
//     types against the argument types, uuid syntax ("data-exception"),
//     aliases, __typename, fragments, @skip/@include, several root fields,
//     operationName. Answers hold only the fields asked for, in the order
//     asked for. Errors read {"errors":[{"extensions":{"path","code"},
//     "message"}]} with HTTP 200, as Hasura's do.
//   - Queries jobs_by_pk, projects, projects_by_pk, tenant_by_pk and
//     getTenantEnv (envVars under "environment"); mutations
//     createGitHubPreviewApp, createTenant, deleteTenant, updateTenantEnv
//     (merges the keys sent) and deleteTenantEnv. Relationship and table
//     lists take where, order_by, limit and offset. projects.endpoint is the
//     bare origin (https://<name>.hasura.app) unless EndpointWithPath.
//   - Jobs whose progress is derived from a Clock at request time: a
//     creation job (one task, create-github-preview-app), then a deployment
//     job whose tasks gh-validation, parse-metadata, parse-migration,
//     apply-metadata, apply-migration, reload-metadata and check-healthz
//     each log created then success or failed. A create for an existing
//     name rebuilds the app and skips its unfinished older jobs; a delete
//     skips them too. Duplicate adds a second project of a name.
//   - Optimistic concurrency on tenant env (hash), the monthly quota of
//     preview app calls, and faults on demand: 5xx with and without a body,
//     429 with Retry-After, HTML pages, slow answers, jobs_by_pk or
//     projects_by_pk null, the first-run "please wait a few moments" text
//     and GenericServerError as JSON errors, failed tasks and failed
//     creations, plus a random fault rate; FirstRun puts every new
//     project's first build through the first-run faults users report.
//
// What it does not simulate: introspection (__schema, __type),
// subscriptions, the rest of the Cloud schema (users, billing,
// collaborators, metadata of the app itself), real GitHub access (the
// GitHub token is checked for presence only), the app's own GraphQL
// endpoint (the endpoint URL is returned but nothing serves it), and
// persistence: all state lives in memory.
package cloudsim
