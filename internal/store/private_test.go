package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
)

// TestSQLiteFileIsPrivate: the database holds every PR's state and the
// errors shown to it; other local users must not read it, whatever the
// umask, and nor its WAL.
func TestSQLiteFileIsPrivate(t *testing.T) {
	dir := t.TempDir()
	for i, form := range []string{"%s", "sqlite://%s", "file:%s?cache=shared"} {
		path := filepath.Join(dir, fmt.Sprintf("db%d.sqlite", i))
		url := fmt.Sprintf(form, path)
		s := storetest.Open(t, url, store.Options{})
		ctx := context.Background()
		if err := s.WithTx(ctx, func(tx *store.Tx) error {
			_, err := tx.RecordPullRequest(ctx, &store.PullRequest{Key: "acme/shop#1", BaseOwner: "acme", BaseRepo: "shop", Number: 1}, true, false)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(f)
			if os.IsNotExist(err) && f != path {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if m := fi.Mode().Perm(); m&0o077 != 0 {
				t.Errorf("%s (opened as %q) has mode %v, want no access for group and others", filepath.Base(f), form, m)
			}
		}
		s.Close()
	}
}
