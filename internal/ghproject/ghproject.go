// Package ghproject fetches a Hasura project directory at a commit from
// GitHub, one tarball (GET /repos/{owner}/{repo}/tarball/{ref}) under size
// caps, and reviews the two sides of a pull request with apireview.
package ghproject

import (
	"archive/tar"
	"cmp"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"testing/fstest"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/apireview"
)

// Limits bound one archive. The zero value means DefaultLimits.
type Limits struct {
	// MaxArchiveBytes caps the compressed download.
	MaxArchiveBytes int64
	// MaxUnpackedBytes caps the tar stream walked, files outside the
	// project included (a gzip bomb runs into it).
	MaxUnpackedBytes int64
	// MaxProjectBytes caps the files kept under the project directory.
	MaxProjectBytes int64
	// MaxFiles caps the files kept.
	MaxFiles int
}

// DefaultLimits leave room for a large monorepo around the project.
var DefaultLimits = Limits{
	MaxArchiveBytes:  200 << 20,
	MaxUnpackedBytes: 1 << 30,
	MaxProjectBytes:  64 << 20,
	MaxFiles:         20000,
}

func (l Limits) orDefault() Limits {
	d := DefaultLimits
	return Limits{
		MaxArchiveBytes:  cmp.Or(l.MaxArchiveBytes, d.MaxArchiveBytes),
		MaxUnpackedBytes: cmp.Or(l.MaxUnpackedBytes, d.MaxUnpackedBytes),
		MaxProjectBytes:  cmp.Or(l.MaxProjectBytes, d.MaxProjectBytes),
		MaxFiles:         cmp.Or(l.MaxFiles, d.MaxFiles),
	}
}

// ErrTooLarge means an archive or the project in it is over a limit.
var ErrTooLarge = errors.New("over the size limit")

// CleanDir checks a project directory relative to the repository root
// and returns it cleaned ("" for the root).
func CleanDir(dir string) (string, error) {
	d := path.Clean(strings.Trim(dir, "/"))
	if d == "." {
		return "", nil
	}
	if d == ".." || strings.HasPrefix(d, "../") || strings.Contains(dir, `\`) {
		return "", fmt.Errorf("project directory %q leaves the repository", dir)
	}
	return d, nil
}

// Fetch downloads owner/repo at ref as one tarball and returns the files
// under dir, relative to it. The download uses gh's client only when the
// link is on the API's host (GitHub Enterprise): a codeload.github.com
// link is signed already, and the API token has no business there.
func Fetch(ctx context.Context, gh *github.Client, owner, repo, ref, dir string, lim Limits) (fstest.MapFS, error) {
	lim = lim.orDefault()
	dir, err := CleanDir(dir)
	if err != nil {
		return nil, err
	}
	u, _, err := gh.Repositories.GetArchiveLink(ctx, owner, repo, github.Tarball, &github.RepositoryContentGetOptions{Ref: ref}, 1)
	if err != nil {
		return nil, fmt.Errorf("asking GitHub for the archive of %s/%s at %s: %w", owner, repo, ref, err)
	}
	hc := http.DefaultClient
	if u.Host == gh.BaseURL.Host {
		hc = gh.Client()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The link of a private repository carries a token: say which
		// host failed, not the URL.
		return nil, fmt.Errorf("downloading the archive from %s: %w", u.Host, cmp.Or(errors.Unwrap(err), err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("downloading the archive from %s: HTTP %d", u.Host, resp.StatusCode)
	}
	return unpack(resp.Body, dir, lim)
}

// capped fails a read past n bytes instead of ending quietly, so that an
// archive cut at the cap is not read as a complete one.
type capped struct {
	r    io.Reader
	n    int64
	what string
}

func (c *capped) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, fmt.Errorf("%s: %w", c.what, ErrTooLarge)
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}

// unpack reads a GitHub tarball: every path is under one top-level
// directory (<owner>-<repo>-<sha>/), which is dropped.
func unpack(r io.Reader, dir string, lim Limits) (fstest.MapFS, error) {
	zr, err := gzip.NewReader(&capped{r: r, n: lim.MaxArchiveBytes + 1, what: fmt.Sprintf("the archive is over %d bytes", lim.MaxArchiveBytes)})
	if err != nil {
		return nil, fmt.Errorf("reading the archive: %w", err)
	}
	tr := tar.NewReader(&capped{r: zr, n: lim.MaxUnpackedBytes, what: fmt.Sprintf("the unpacked archive is over %d bytes", lim.MaxUnpackedBytes)})
	out := fstest.MapFS{}
	var kept int64
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the archive: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue // directories, the PAX header; links are not followed
		}
		_, name, ok := strings.Cut(h.Name, "/")
		if !ok {
			continue
		}
		rel, ok := strings.CutPrefix(name, prefix)
		if !ok || !fs.ValidPath(rel) || rel == "." {
			continue
		}
		if len(out) >= lim.MaxFiles {
			return nil, fmt.Errorf("the project directory has over %d files: %w", lim.MaxFiles, ErrTooLarge)
		}
		if kept+h.Size > lim.MaxProjectBytes {
			return nil, fmt.Errorf("the project directory is over %d bytes: %w", lim.MaxProjectBytes, ErrTooLarge)
		}
		data, err := io.ReadAll(io.LimitReader(tr, h.Size))
		if err != nil {
			return nil, fmt.Errorf("reading %s from the archive: %w", rel, err)
		}
		kept += int64(len(data))
		out[rel] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
}

// Side says where one side of a review comes from: a directory already on
// disk (FS), or the repository at Ref through the API.
type Side struct {
	FS  fs.FS
	Ref string
}

// Review reads both sides (at most one archive each, under DefaultLimits)
// and diffs them. A side that cannot be fetched is a problem line in the
// report, not an error: the review must not fail a preview.
func Review(ctx context.Context, gh *github.Client, owner, repo, dir string, base, head Side, opts apireview.Options) *apireview.Report {
	fetch := func(s Side, name string) (fs.FS, string) {
		if s.FS != nil {
			return s.FS, ""
		}
		m, err := Fetch(ctx, gh, owner, repo, s.Ref, dir, Limits{})
		if err != nil {
			return nil, fmt.Sprintf("%s: %v", name, err)
		}
		return m, ""
	}
	bfs, berr := fetch(base, "base")
	hfs, herr := fetch(head, "head")
	if berr != "" || herr != "" {
		return apireview.Unavailable(strings.Trim(berr+"; "+herr, "; "))
	}
	b, h := apireview.LoadPair(bfs, hfs, apireview.Limits{})
	return apireview.Diff(b, h, opts)
}
