//go:build unix

package appsetup_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/appsetup"
)

// The mode holds whatever the process's umask.
func TestFileStorageModeUnderPermissiveUmask(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	fs := &appsetup.FileStorage{Path: filepath.Join(t.TempDir(), "x.db"+appsetup.CredentialsFileSuffix)}
	if err := fs.Save(context.Background(), sampleCredentials()); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(fs.Path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("credentials file mode %#o under umask 0, want 0600", mode)
	}
}
