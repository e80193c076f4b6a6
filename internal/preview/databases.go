package preview

import (
	"context"

	"github.com/hasura-preview/hasura-preview/internal/pgdb"
)

// PostgresDatabases adapts a pgdb.Manager to the engine's Databases.
func PostgresDatabases(m *pgdb.Manager) Databases { return pgDatabases{m} }

type pgDatabases struct{ m *pgdb.Manager }

func (d pgDatabases) Ensure(ctx context.Context, app string) ([]EnvVar, error) {
	vars, err := d.m.Ensure(ctx, app)
	if err != nil {
		return nil, err
	}
	out := make([]EnvVar, len(vars))
	for i, v := range vars {
		out[i] = EnvVar(v)
	}
	return out, nil
}

func (d pgDatabases) Drop(ctx context.Context, app string) error { return d.m.Drop(ctx, app) }

func (d pgDatabases) EnvKeys() []string { return d.m.EnvKeys() }
