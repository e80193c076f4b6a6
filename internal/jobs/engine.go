package jobs

import (
	"context"
	"database/sql"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/hasura-preview/hasura-preview/internal/store"
)

// riverClient is the part of *river.Client that does not depend on its
// transaction type.
type riverClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	ID() string
	JobCancel(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
}

// engine hides River's transaction type parameter (*sql.Tx on SQLite,
// pgx.Tx on PostgreSQL) from the rest of the package.
type engine interface {
	riverClient
	insertManyTx(ctx context.Context, tx *store.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	retryTx(ctx context.Context, tx *store.Tx, id int64) error
	completeTx(ctx context.Context, tx *store.Tx, job *river.Job[ReconcileArgs]) error
	executor() riverdriver.Executor
}

type riverEngine[TTx any, TDriver riverdriver.Driver[TTx]] struct {
	*river.Client[TTx]
	driver TDriver
	unwrap func(*store.Tx) TTx
}

func newEngine(st *store.Store, cfg *river.Config) (engine, error) {
	if st.Backend() == store.SQLite {
		return build(riversqlite.New(st.DB()), cfg, func(tx *store.Tx) *sql.Tx { return tx.SQL() })
	}
	return build(riverpgxv5.New(st.Pool()), cfg, func(tx *store.Tx) pgx.Tx { return tx.Pgx() })
}

func build[TTx any, TDriver riverdriver.Driver[TTx]](d TDriver, cfg *river.Config, unwrap func(*store.Tx) TTx) (engine, error) {
	c, err := river.NewClient[TTx](d, cfg)
	if err != nil {
		return nil, err
	}
	return &riverEngine[TTx, TDriver]{Client: c, driver: d, unwrap: unwrap}, nil
}

func (e *riverEngine[TTx, TDriver]) insertManyTx(ctx context.Context, tx *store.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	return e.InsertManyTx(ctx, e.unwrap(tx), params)
}

func (e *riverEngine[TTx, TDriver]) retryTx(ctx context.Context, tx *store.Tx, id int64) error {
	_, err := e.JobRetryTx(ctx, e.unwrap(tx), id)
	return err
}

func (e *riverEngine[TTx, TDriver]) completeTx(ctx context.Context, tx *store.Tx, job *river.Job[ReconcileArgs]) error {
	_, err := river.JobCompleteTx[TDriver, TTx, ReconcileArgs](ctx, e.unwrap(tx), job)
	return err
}

func (e *riverEngine[TTx, TDriver]) executor() riverdriver.Executor { return e.driver.GetExecutor() }
