// Package cloudsim simulates the Hasura Cloud API: an http.Handler that
// answers POST /v1/graphql the way https://data.pro.hasura.io/v1/graphql
// does, so a client written against the real API (the official
// hasura/hasura-cloud-preview-apps action included) works against it
// unchanged.
//
// What it simulates:
//
//   - Authentication with "Authorization: pat <token>": a wrong token gets
//     HTTP 401 "access-denied"; no header gets the anonymous role, whose
//     empty schema answers "field '<first root field>' not found in type:
//     'query_root'".
//   - GraphQL parsing (gqlparser) and Hasura-style validation over a small
//     schema: variables with defaults, required variables, unexpected
//     variables, declared types against the argument types (uuid, String,
//     [UpdateEnvsObject], jsonb...), uuid syntax ("data-exception"),
//     aliases, __typename, fragments, @skip/@include, several root fields,
//     operationName. Answers hold only the fields asked for, in the order
//     asked for. Errors read {"errors":[{"extensions":{"path","code"},
//     "message"}]} with HTTP 200, as Hasura's do.
//   - Queries jobs_by_pk, projects, projects_by_pk, tenant_by_pk and
//     getTenantEnv; mutations createGitHubPreviewApp, createTenant,
//     deleteTenant and updateTenantEnv. Relationship and table lists take
//     where, order_by, limit and offset.
//   - Jobs whose progress is derived from a Clock at request time: a
//     creation job (one task, create-github-preview-app), then a deployment
//     job whose tasks gh-validation, parse-metadata, parse-migration,
//     apply-metadata, apply-migration, reload-metadata and check-healthz
//     each log created then success or failed. A create for an existing
//     name rebuilds the app and skips its unfinished older jobs; a delete
//     skips them too.
//   - Optimistic concurrency on tenant env (hash), the monthly quota of
//     preview app calls, and faults on demand: 5xx with and without a body,
//     429 with Retry-After, HTML pages, slow answers, jobs_by_pk null,
//     failed tasks and failed creations, plus a random fault rate.
//
// What it does not simulate: introspection (__schema, __type),
// subscriptions, the rest of the Cloud schema (users, billing,
// collaborators, metadata of the app itself), real GitHub access (the
// GitHub token is checked for presence only), the app's own GraphQL
// endpoint (the endpoint URL is returned but nothing serves it), and
// persistence: all state lives in memory.
package cloudsim
