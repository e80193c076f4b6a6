package ghsim_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

func TestTarball(t *testing.T) {
	sim, base := ghsim.NewTestServer(t, ghsim.Options{Prefix: "/api/v3/"})
	sim.SetRef("acme", "app", "main", "0123456789abcdef0123456789abcdef01234567")
	sim.SetFile("acme", "app", "main", "hasura/config.yaml", "version: 3\n")
	sim.SetFile("acme", "app", "main", "README.md", "hi\n")
	sim.AddToken("ghs_read", ghsim.TokenSpec{Repos: []string{"acme/app"}, Permissions: map[string]string{"contents": "read"}})
	sim.AddToken("ghs_none", ghsim.TokenSpec{Repos: []string{"acme/app"}, Permissions: map[string]string{"issues": "write"}})
	client := func(tok string) *github.Client {
		gh, _ := github.NewClient(nil).WithAuthToken(tok).WithEnterpriseURLs(base, base)
		return gh
	}
	ctx := context.Background()

	u, _, err := client("ghs_read").Repositories.GetArchiveLink(ctx, "acme", "app", github.Tarball, &github.RepositoryContentGetOptions{Ref: "0123456789abcdef0123456789abcdef01234567"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client("ghs_read").Client().Get(u.String())
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download: %v %v", err, resp)
	}
	defer resp.Body.Close()
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, _ := io.ReadAll(tr)
			files[h.Name] = string(b)
		}
	}
	if files["acme-app-0123456/hasura/config.yaml"] != "version: 3\n" || files["acme-app-0123456/README.md"] != "hi\n" || len(files) != 2 {
		t.Errorf("archive: %v", files)
	}

	if _, resp, err := client("ghs_read").Repositories.GetArchiveLink(ctx, "acme", "app", github.Tarball, &github.RepositoryContentGetOptions{Ref: "nope"}, 0); err == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown ref: %v", err)
	}
	if _, resp, err := client("ghs_none").Repositories.GetArchiveLink(ctx, "acme", "app", github.Tarball, nil, 0); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("token without contents: %v", err)
	}
	if got := sim.CountRequests("GET", "/codeload/"); got != 1 {
		t.Errorf("%d downloads", got)
	}
}
