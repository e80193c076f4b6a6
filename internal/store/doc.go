// Package store keeps the webhook service's durable bookkeeping: the desired
// state of every pull request (as the last delivery described it), the actual
// state of its preview (as the reconciler last left it), deliveries for dedupe
// and the dashboard, installations, and per-PR leases.
//
// One schema runs on two backends. SQLite (modernc.org/sqlite, pure Go) is the
// single-replica default; PostgreSQL (pgx/v5) serves several replicas. Open
// picks the backend from the URL, then applies this package's migrations and
// River's, so that internal/jobs can put its queue in the same database and
// the intake can record a delivery, the desired state and the job in one
// transaction.
//
// SQLite runs on a single connection: River and this package share it, which
// removes SQLITE_BUSY between them but means a goroutine holding a Tx must not
// call any method of Store (only of Tx) until the Tx ends, or it waits for
// itself forever.
//
// Times are stored as Unix microseconds (UTC) in both backends so that
// comparisons and ordering are the same everywhere and come from the Store's
// clock, never from the database's.
package store
