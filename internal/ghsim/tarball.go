package ghsim

import (
	"archive/tar"
	"compress/gzip"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// getTarball answers GET /repos/{owner}/{repo}/tarball/{ref} as GitHub
// does: "Gets a redirect URL to download a tar archive for a repository.
// If you omit :ref, the repository's default branch (usually main) will be
// used. Please make sure your HTTP framework is configured to follow
// redirects or you will need to use the Location header to make a second
// GET request." (REST docs, "Download a repository archive (tar)"). The
// redirect points at the simulator's stand-in for codeload.github.com.
func (c *call) getTarball() {
	ref := c.params["ref"]
	if _, _, ok := c.s.st.resolveRef(c.repo, ref); !ok {
		c.notFound()
		return
	}
	if ref == "" {
		ref = c.repo.defaultBranch
	}
	loc := c.apiBase() + "codeload/" + url.PathEscape(c.repo.owner) + "/" + url.PathEscape(c.repo.name) + "/legacy.tar.gz/" + url.PathEscape(ref)
	c.w.Header().Set("Location", loc)
	c.w.WriteHeader(http.StatusFound)
}

// getCodeload serves the archive: gzip'd tar, every path under one
// top-level directory named <owner>-<repo>-<short sha> as GitHub names it,
// plus the PAX global header that carries the commit.
func (c *call) getCodeload() {
	repo, branch, ok := c.s.st.resolveRef(c.repo, c.params["ref"])
	if !ok {
		c.notFound()
		return
	}
	sha := repo.refs[branch]
	short := sha
	if len(short) > 7 {
		short = short[:7]
	}
	top := repo.owner + "-" + repo.name + "-" + short + "/"
	c.w.Header().Set("Content-Type", "application/x-gzip")
	c.w.Header().Set("Content-Disposition", "attachment; filename="+strings.TrimSuffix(top, "/")+".tar.gz")
	c.w.WriteHeader(http.StatusOK)
	gz := gzip.NewWriter(c.w)
	tw := tar.NewWriter(gz)
	mod := time.Unix(0, 0)
	_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": sha}, ModTime: mod})
	dirs := map[string]bool{}
	files := repo.files[branch]
	for _, p := range sortedKeys(files) {
		for i := range len(p) {
			if p[i] == '/' && !dirs[p[:i]] {
				dirs[p[:i]] = true
				_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: top + p[:i+1], Mode: 0o775, ModTime: mod})
			}
		}
		content := files[p]
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: top + p, Mode: 0o664, Size: int64(len(content)), ModTime: mod}); err != nil {
			return
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			return
		}
	}
	_ = tw.Close()
	_ = gz.Close()
}
