// Package pgdb gives each preview app an ephemeral PostgreSQL database on a
// server the user provides, compatible with the official Hasura Cloud
// preview action's postgresDBConfig input:
//
//	POSTGRES_SERVER_CONNECTION_URI=postgres://user:pass@host:5432/postgres?sslmode=require
//	PG_ENV_VARS_FOR_HASURA=PG_DATABASE_URL,OTHER_DB_URL
//
// The lines may come in any order. By default, as in the official action,
// every listed variable points at ONE database named after the app (every
// character other than an ASCII letter or digit becomes '_', so the app
// hello-world-pr-2 gets hello_world_pr_2). Beyond the official action, a
// third line
//
//	PG_DATABASE_PER_ENV_VAR=true
//
// gives each listed variable a database of its own, named
// <database>_<variable in lowercase> (hello_world_pr_2_pg_database_url), for
// apps whose sources must not share one database.
//
// Ensure recreates the databases from scratch: it closes other sessions on
// them (the previous build of the preview is usually still connected), drops
// and creates them, and returns each variable set to the server URI with
// only the database replaced, so user, password, host, port and query
// parameters such as sslmode carry over. Drop removes them; a database that
// is already gone counts as dropped.
//
// The server URI holds a password. Nothing this package returns or prints
// contains it except the environment values that Ensure hands back for the
// app: Config and EnvVar redact it in String and LogValue, and errors
// (including those from pgx, which may quote the connection string) are
// scrubbed of it.
package pgdb
