// Command pgcheck fails loudly when the PostgreSQL that the tests use cannot
// be reached, so PostgreSQL tests never skip silently in CI.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

func main() {
	if len(os.Args) != 2 || os.Args[1] == "" {
		fmt.Fprintln(os.Stderr, "pgcheck: usage: pgcheck <postgres-url>")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgcheck: PostgreSQL is not reachable; its tests would not run: %v\n", err)
		os.Exit(1)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, "select version()").Scan(&v); err != nil {
		fmt.Fprintf(os.Stderr, "pgcheck: PostgreSQL answered but could not run a query: %v\n", err)
		os.Exit(1)
	}
	fmt.Println("pgcheck: ok:", v)
}
