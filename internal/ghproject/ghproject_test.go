package ghproject

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/apireview"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

const token = "ghs_apireview_test_token"

// seed puts testdata/<fixture>/<side> under hasura/ on branch, with files
// outside the project directory around it.
func seed(t *testing.T, sim *ghsim.Server, branch, dir string) {
	t.Helper()
	if err := sim.SetDir("acme", "shop", branch, "hasura", os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	sim.SetFile("acme", "shop", branch, "README.md", "# shop\n")
	sim.SetFile("acme", "shop", branch, "hasura-other/config.yaml", "version: 3\n")
	sim.SetFile("acme", "shop", branch, "web/index.js", "console.log('hi')\n")
}

func newSim(t *testing.T) (*ghsim.Server, *github.Client) {
	t.Helper()
	sim, base := ghsim.NewTestServer(t, ghsim.Options{Prefix: "/api/v3/"})
	sim.AddToken(token, ghsim.TokenSpec{Login: "hasura-preview[bot]", Repos: []string{"acme/shop"},
		Permissions: map[string]string{"contents": "read", "pull_requests": "write"}})
	gh, err := github.NewClient(nil).WithAuthToken(token).WithEnterpriseURLs(base, base)
	if err != nil {
		t.Fatal(err)
	}
	return sim, gh
}

const fixtures = "../apireview/testdata/"

// TestReviewThroughTheSimulator: both sides of graphql-engine's nextjs-13
// sample come out of one tarball request each (plus the download it
// redirects to), and the review is the one the directories give.
func TestReviewThroughTheSimulator(t *testing.T) {
	sim, gh := newSim(t)
	sim.SetRef("acme", "shop", "main", "1111111111111111111111111111111111111111")
	seed(t, sim, "main", fixtures+"nextjs-13/base")
	sim.AddPull("acme", "shop", ghsim.PullSpec{Number: 7, HeadRef: "coupons", HeadSHA: "2222222222222222222222222222222222222222"})
	seed(t, sim, "coupons", fixtures+"nextjs-13/head")

	r := Review(context.Background(), gh, "acme", "shop", "hasura",
		Side{Ref: "1111111111111111111111111111111111111111"}, Side{Ref: "2222222222222222222222222222222222222222"},
		apireview.Options{})
	base, head := apireview.LoadPair(os.DirFS(fixtures+"nextjs-13/base"), os.DirFS(fixtures+"nextjs-13/head"), apireview.Limits{})
	want := apireview.Diff(base, head, apireview.Options{})
	if r.Summary != want.Summary || len(r.Problems) > 0 {
		t.Fatalf("summary %q, want %q; problems %v", r.Summary, want.Summary, r.Problems)
	}
	if got := sim.CountRequests("GET", "/tarball/"); got != 2 {
		t.Errorf("%d tarball requests, want one per side", got)
	}
	if got := len(sim.Requests()); got != 4 {
		t.Errorf("%d requests in all, want 4 (two links, two downloads): %+v", got, sim.Requests())
	}
	for _, rq := range sim.Requests() {
		if rq.Status != http.StatusFound && rq.Status != http.StatusOK {
			t.Errorf("%s %s: %d", rq.Method, rq.Path, rq.Status)
		}
	}
}

// TestFetchKeepsOnlyTheProject: files beside the project directory (and
// a sibling whose name starts the same) are dropped; paths are relative.
func TestFetchKeepsOnlyTheProject(t *testing.T) {
	sim, gh := newSim(t)
	seed(t, sim, "main", fixtures+"cloud-preview-apps/base")
	m, err := Fetch(context.Background(), gh, "acme", "shop", "main", "./hasura/", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m["config.yaml"]; !ok || len(m) != 21 {
		t.Errorf("%d files: %v", len(m), keys(m))
	}
	for p := range m {
		if strings.HasPrefix(p, "hasura") || p == "README.md" || strings.HasPrefix(p, "web/") {
			t.Errorf("kept %s", p)
		}
	}
	all, err := Fetch(context.Background(), gh, "acme", "shop", "main", "", Limits{})
	if err != nil || all["README.md"] == nil || all["hasura/config.yaml"] == nil {
		t.Errorf("whole repository: %v %v", err, keys(all))
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestFetchLimits(t *testing.T) {
	sim, gh := newSim(t)
	seed(t, sim, "main", fixtures+"cloud-preview-apps/base")
	sim.SetFile("acme", "shop", "main", "assets/zeros.bin", strings.Repeat("\x00", 4<<20))
	cases := []struct {
		name string
		lim  Limits
	}{
		{"project bytes", Limits{MaxProjectBytes: 1000}},
		{"files", Limits{MaxFiles: 5}},
		{"unpacked bytes (a file outside the project)", Limits{MaxUnpackedBytes: 1 << 20}},
		{"archive bytes", Limits{MaxArchiveBytes: 500}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Fetch(context.Background(), gh, "acme", "shop", "main", "hasura", c.lim)
			if !errors.Is(err, ErrTooLarge) {
				t.Errorf("err = %v, want ErrTooLarge", err)
			}
		})
	}
	if _, err := Fetch(context.Background(), gh, "acme", "shop", "main", "../etc", Limits{}); err == nil {
		t.Error("a directory outside the repository was accepted")
	}
}

// TestReviewMissingRef: a side that cannot be fetched is a problem line.
func TestReviewMissingRef(t *testing.T) {
	sim, gh := newSim(t)
	seed(t, sim, "main", fixtures+"cloud-preview-apps/base")
	r := Review(context.Background(), gh, "acme", "shop", "hasura", Side{Ref: "main"}, Side{Ref: "no-such-sha"}, apireview.Options{})
	md := r.Markdown()
	if r.Changed || len(r.Problems) != 1 || !strings.Contains(r.Problems[0].Message, "head: asking GitHub for the archive") || !strings.Contains(md, "not compared") {
		t.Errorf("%+v\n%s", r, md)
	}
}

// TestFetchCrossHostLink: a link to another host (codeload.github.com on
// github.com) is downloaded without the API token.
func TestFetchCrossHostLink(t *testing.T) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range map[string]string{"acme-shop-abc1234/hasura/config.yaml": "version: 3\n", "acme-shop-abc1234/x": "y"} {
		_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(body)), Mode: 0o644})
		_, _ = tw.Write([]byte(body))
	}
	_ = tw.Close()
	_ = gz.Close()
	var sawAuth string
	codeload := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAuth = r.Header.Get("Authorization")
		_, _ = w.Write(buf.Bytes())
	}))
	defer codeload.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v3/repos/acme/shop/tarball/abc1234" || r.Header.Get("Authorization") != "Bearer "+token {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, codeload.URL+"/acme/shop/legacy.tar.gz/abc1234?token=signed", http.StatusFound)
	}))
	defer api.Close()
	gh, _ := github.NewClient(nil).WithAuthToken(token).WithEnterpriseURLs(api.URL+"/api/v3/", api.URL+"/api/v3/")
	m, err := Fetch(context.Background(), gh, "acme", "shop", "abc1234", "hasura", Limits{})
	if err != nil || string(m["config.yaml"].Data) != "version: 3\n" || len(m) != 1 {
		t.Fatalf("%v %v", err, keys(m))
	}
	if sawAuth != "" {
		t.Errorf("the API token went to the download host: %q", sawAuth)
	}
}
