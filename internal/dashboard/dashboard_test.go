package dashboard_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/dashboard"
	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
)

// Hostile values a stranger controls: a branch name, a PR title, an
// error message echoed from a failed build, an endpoint the API returned.
const (
	hostileBranch   = `x"><script>alert(1)</script><img src=x onerror=alert(2)>`
	hostileTitle    = `</title><script>alert(3)</script>`
	hostileError    = `apply-migration failed: <iframe src="https://evil.example/"></iframe>`
	hostileEndpoint = `javascript:alert(4)//https://x.hasura.app/v1/graphql`
	hostileReason   = `<b onmouseover=alert(5)>bad</b>`
)

type queueFunc func(ctx context.Context) (map[string]int, error)

func (f queueFunc) Stats(ctx context.Context) (map[string]int, error) { return f(ctx) }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// seed writes two PRs with previews (one ready, one hostile and failed), a
// third open PR without a preview row, and deliveries, into a real SQLite
// store.
func seed(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	prs := []*store.PullRequest{
		{Key: store.PRKey("acme", "shop", 7), InstallationID: 11, BaseOwner: "acme", BaseRepo: "shop", Number: 7,
			HeadOwner: "acme", HeadRepo: "shop", Branch: "feature/cart", HeadSHA: "abc", BaseRef: "main",
			Title: "Cart", Author: "dev", EventUpdatedAt: t0},
		{Key: store.PRKey("acme", "shop", 8), InstallationID: 11, BaseOwner: "acme", BaseRepo: "shop", Number: 8,
			HeadOwner: "mallory", HeadRepo: "shop", Branch: hostileBranch, HeadSHA: "def", BaseRef: "main",
			Title: hostileTitle, Author: "mallory", EventUpdatedAt: t0},
		{Key: store.PRKey("acme", "api", 3), InstallationID: 11, BaseOwner: "acme", BaseRepo: "api", Number: 3,
			HeadOwner: "acme", HeadRepo: "api", Branch: "waiting", HeadSHA: "123", BaseRef: "main",
			Title: "Not built yet", Author: "dev", EventUpdatedAt: t0},
	}
	err := st.WithTx(ctx, func(tx *store.Tx) error {
		for _, pr := range prs {
			if _, err := tx.RecordPullRequest(ctx, pr, true, false); err != nil {
				return err
			}
		}
		for _, d := range []*store.Delivery{
			{Source: "app:1", GUID: "g-1", Event: "pull_request", Action: "opened", Repo: "acme/shop", PRNumber: 7,
				Outcome: store.OutcomeAccepted, ReceivedAt: t0.Add(-2 * time.Minute)},
			{Source: "app:1", GUID: "g-2", Event: "pull_request", Action: "opened", Repo: "acme/shop", PRNumber: 8,
				Outcome: store.OutcomeRejected, Reason: hostileReason, ReceivedAt: t0.Add(-time.Minute)},
		} {
			if _, err := tx.InsertDelivery(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*store.Preview{
		{Key: prs[0].Key, AppName: "acme-shop-pr-7", Status: store.StatusReady,
			Endpoint: "https://acme-shop-pr-7.hasura.app/v1/graphql", ConsoleURL: "https://cloud.hasura.io/project/p-7/console",
			RunState: []byte(`{"api_summary":"2 tables added · 1 permission widened ⚠"}`)},
		{Key: prs[1].Key, AppName: "acme-shop-pr-8", Status: store.StatusFailed, Endpoint: hostileEndpoint,
			ConsoleURL: "data:text/html,<script>alert(6)</script>", LastError: hostileError,
			RunState: []byte(`{"api_summary":"<script>alert(7)</script> added"}`)},
	} {
		if err := st.SavePreview(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
}

func newServer(t *testing.T, st *store.Store, q dashboard.Queue) *httptest.Server {
	t.Helper()
	h, err := dashboard.New(dashboard.Options{Previews: st, Deliveries: st, Queue: q,
		Now: func() time.Time { return t0.Add(90 * time.Minute) }, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func TestDashboardShowsPreviewsDeliveriesAndQueue(t *testing.T) {
	st := storetest.SQLite(t, store.Options{Now: func() time.Time { return t0 }})
	seed(t, st)
	q := queueFunc(func(context.Context) (map[string]int, error) {
		return map[string]int{"available": 2, "scheduled": 5, "running": 1, "completed": 40}, nil
	})
	code, hdr, body := get(t, newServer(t, st, q).URL)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	if ct := hdr.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	for _, want := range []string{
		`<meta http-equiv="refresh" content="10">`,
		`<a href="https://github.com/acme/shop">acme/shop</a>`,
		`<a class="pr" href="https://github.com/acme/shop/pull/7">#7</a>`,
		`<code class="branch">feature/cart</code>`,
		`<td class="status tone-good">ready</td>`,
		`<a class="endpoint" href="https://acme-shop-pr-7.hasura.app/v1/graphql">https://acme-shop-pr-7.hasura.app/v1/graphql</a>`,
		`<a class="console" href="https://cloud.hasura.io/project/p-7/console">console</a>`,
		`<td title="2026-03-01T12:00:00Z">1h30m</td>`,                  // age from the store's first save
		`<td class="api">2 tables added · 1 permission widened ⚠</td>`, // the API review's summary line
		`<td class="status tone-bad">failed</td>`,
		`<code class="branch">waiting</code>`, // open PR without a preview row yet
		`<td class="status tone-busy">queued</td>`,
		`<code>pull_request/opened</code>`,
		`acme/shop<a href="https://github.com/acme/shop/pull/8">#8</a>`,
		`<td class="outcome tone-bad">rejected</td>`,
		`<tr><th>available</th><td>2</td></tr>`,
		`<tr><th>scheduled</th><td>5</td></tr>`,
		`<tr><th>running</th><td>1</td></tr>`,
		`<tr><th>retryable</th><td>0</td></tr>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// Newest delivery first.
	if i, j := strings.Index(body, "pull/8\">#8</a></td>\n<td class=\"outcome"), strings.Index(body, "pull/7\">#7</a></td>\n<td class=\"outcome"); i < 0 || j < 0 || i > j {
		t.Errorf("deliveries not newest first (#8 at %d, #7 at %d)", i, j)
	}
}

func TestDashboardEscapesHostileValues(t *testing.T) {
	st := storetest.SQLite(t, store.Options{Now: func() time.Time { return t0 }})
	seed(t, st)
	_, _, body := get(t, newServer(t, st, nil).URL)
	// Tags must arrive as text; javascript: and data: may show as text but
	// never as a link.
	for _, raw := range []string{"<script", "<img", "<iframe", "<b onmouseover", `href="javascript:`, `href="data:`} {
		if strings.Contains(body, raw) {
			t.Errorf("page contains unescaped %q", raw)
		}
	}
	for _, want := range []string{
		`<code class="branch">x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;</code>`,
		`&lt;/title&gt;&lt;script&gt;alert(3)&lt;/script&gt;`,
		`apply-migration failed: &lt;iframe src=&#34;https://evil.example/&#34;&gt;&lt;/iframe&gt;`,
		`&lt;b onmouseover=alert(5)&gt;bad&lt;/b&gt;`,
		`<td class="api">&lt;script&gt;alert(7)&lt;/script&gt; added</td>`,
		// A non-http endpoint is shown as text, never linked.
		`<code>javascript:alert(4)//https://x.hasura.app/v1/graphql</code>`,
		`No queue in this process.`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Count(body, `class="endpoint"`) != 1 {
		t.Errorf("want exactly one endpoint link (the https one), got %d", strings.Count(body, `class="endpoint"`))
	}
}

func TestDashboardEmptyStore(t *testing.T) {
	st := storetest.SQLite(t, store.Options{})
	_, _, body := get(t, newServer(t, st, nil).URL)
	for _, want := range []string{`id="no-previews"`, `id="no-deliveries"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

func TestDashboardStoreDown(t *testing.T) {
	st := storetest.SQLite(t, store.Options{})
	srv := newServer(t, st, nil)
	st.Close()
	code, _, body := get(t, srv.URL)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", code)
	}
	if strings.Contains(body, "sql") {
		t.Errorf("the answer leaks the database error: %q", body)
	}
}

func TestDashboardQueueError(t *testing.T) {
	st := storetest.SQLite(t, store.Options{})
	q := queueFunc(func(context.Context) (map[string]int, error) { return nil, errors.New("boom") })
	code, _, body := get(t, newServer(t, st, q).URL)
	if code != http.StatusOK || !strings.Contains(body, "could not count jobs") || strings.Contains(body, "boom") {
		t.Fatalf("status %d, body %q", code, body)
	}
}

func TestDashboardMethods(t *testing.T) {
	st := storetest.SQLite(t, store.Options{})
	srv := newServer(t, st, nil)
	resp, err := http.Post(srv.URL, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST: status %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestNewRequiresStores(t *testing.T) {
	if _, err := dashboard.New(dashboard.Options{}); err == nil {
		t.Fatal("New accepted options without stores")
	}
}

func TestWebURL(t *testing.T) {
	for _, c := range []struct{ api, want string }{
		{"https://api.github.com/", "https://github.com"},
		{"https://ghe.example.com/api/v3/", "https://ghe.example.com"},
		{"https://ghe.example.com/api/v3", "https://ghe.example.com"},
		{"http://127.0.0.1:4000/", "https://github.com"},
		{"::", "https://github.com"},
	} {
		if got := dashboard.WebURL(c.api); got != c.want {
			t.Errorf("WebURL(%q) = %q, want %q", c.api, got, c.want)
		}
	}
}
