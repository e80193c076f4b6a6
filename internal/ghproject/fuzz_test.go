package ghproject

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io/fs"
	"strings"
	"testing"
)

func tarball(t testing.TB, files map[string]string, typ byte) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		h := &tar.Header{Typeflag: typ, Name: name, Size: int64(len(body)), Mode: 0o644}
		if typ == tar.TypeSymlink {
			h.Linkname, h.Size = body, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			_, _ = tw.Write([]byte(body))
		}
	}
	_ = tw.Close()
	_ = gz.Close()
	return buf.Bytes()
}

// FuzzUnpack: any bytes as an archive either unpack within the limits,
// with every path valid and inside the project directory, or fail with
// an error; nothing panics.
func FuzzUnpack(f *testing.F) {
	f.Add(tarball(f, map[string]string{"o-r-1/hasura/config.yaml": "version: 3\n", "o-r-1/README.md": "x"}, tar.TypeReg))
	f.Add(tarball(f, map[string]string{"o-r-1/hasura/../../etc/passwd": "x", "o-r-1/hasura//a": "y", "/abs": "z"}, tar.TypeReg))
	f.Add(tarball(f, map[string]string{"o-r-1/hasura/metadata/x.yaml": "/etc/passwd"}, tar.TypeSymlink))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	lim := Limits{MaxArchiveBytes: 1 << 20, MaxUnpackedBytes: 4 << 20, MaxProjectBytes: 1 << 20, MaxFiles: 100}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := unpack(bytes.NewReader(data), "hasura", lim)
		if err != nil {
			return
		}
		var total int
		for p, file := range m {
			if !fs.ValidPath(p) {
				t.Fatalf("path %q", p)
			}
			total += len(file.Data)
		}
		if len(m) > lim.MaxFiles || int64(total) > lim.MaxProjectBytes {
			t.Fatalf("%d files, %d bytes: over the limits", len(m), total)
		}
	})
}

// TestUnpackRefusesLinksAndEscapes: links are not kept, nor paths that
// climb out.
func TestUnpackRefusesLinksAndEscapes(t *testing.T) {
	m, err := unpack(bytes.NewReader(tarball(t, map[string]string{"o-r-1/hasura/metadata/x.yaml": "/etc/passwd"}, tar.TypeSymlink)), "hasura", DefaultLimits)
	if err != nil || len(m) != 0 {
		t.Errorf("symlink: %v %v", err, keys(m))
	}
	m, err = unpack(bytes.NewReader(tarball(t, map[string]string{"o-r-1/hasura/../../x": "a", "o-r-1/hasura/./y": "b", "o-r-1/hasura/ok.yaml": "c"}, tar.TypeReg)), "hasura", DefaultLimits)
	if err != nil || len(m) != 1 || m["ok.yaml"] == nil {
		t.Errorf("escapes: %v %v", err, keys(m))
	}
	if _, err := unpack(strings.NewReader("not gzip"), "hasura", DefaultLimits); err == nil || errors.Is(err, ErrTooLarge) {
		t.Errorf("garbage: %v", err)
	}
}
