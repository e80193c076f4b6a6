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

// engine hides River's transaction type parameter (*sql.Tx on SQLite,
// pgx.Tx on PostgreSQL) from the rest of the package.
type engine interface {
	start(ctx context.Context) error
	stop(ctx context.Context) error
	stopAndCancel(ctx context.Context) error
	id() string
	insertManyTx(ctx context.Context, tx *store.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	retryTx(ctx context.Context, tx *store.Tx, id int64) error
	cancel(ctx context.Context, id int64) error
	list(ctx context.Context, p *river.JobListParams) (*river.JobListResult, error)
	executor() riverdriver.Executor
	completeTx(ctx context.Context, tx *store.Tx, job *river.Job[ReconcileArgs]) error
}

type riverEngine[TTx any, TDriver riverdriver.Driver[TTx]] struct {
	c      *river.Client[TTx]
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
	return &riverEngine[TTx, TDriver]{c: c, driver: d, unwrap: unwrap}, nil
}

func (e *riverEngine[TTx, TDriver]) start(ctx context.Context) error { return e.c.Start(ctx) }
func (e *riverEngine[TTx, TDriver]) stop(ctx context.Context) error  { return e.c.Stop(ctx) }
func (e *riverEngine[TTx, TDriver]) stopAndCancel(ctx context.Context) error {
	return e.c.StopAndCancel(ctx)
}
func (e *riverEngine[TTx, TDriver]) id() string { return e.c.ID() }

func (e *riverEngine[TTx, TDriver]) insertManyTx(ctx context.Context, tx *store.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	return e.c.InsertManyTx(ctx, e.unwrap(tx), params)
}

func (e *riverEngine[TTx, TDriver]) retryTx(ctx context.Context, tx *store.Tx, id int64) error {
	_, err := e.c.JobRetryTx(ctx, e.unwrap(tx), id)
	return err
}

func (e *riverEngine[TTx, TDriver]) cancel(ctx context.Context, id int64) error {
	_, err := e.c.JobCancel(ctx, id)
	return err
}

func (e *riverEngine[TTx, TDriver]) list(ctx context.Context, p *river.JobListParams) (*river.JobListResult, error) {
	return e.c.JobList(ctx, p)
}

func (e *riverEngine[TTx, TDriver]) executor() riverdriver.Executor { return e.driver.GetExecutor() }

func (e *riverEngine[TTx, TDriver]) completeTx(ctx context.Context, tx *store.Tx, job *river.Job[ReconcileArgs]) error {
	_, err := river.JobCompleteTx[TDriver, TTx, ReconcileArgs](ctx, e.unwrap(tx), job)
	return err
}
