package dashboard_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/dashboard"
	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
)

func render(t *testing.T, opts dashboard.Options) string {
	t.Helper()
	h, err := dashboard.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body, _ := io.ReadAll(rec.Result().Body)
	if rec.Code != 200 {
		t.Fatalf("GET / = %d: %s", rec.Code, body)
	}
	return string(body)
}

// The App section tells an operator at a glance whether GitHub reaches the
// service: the App's name, where it is installed, and when the last
// delivery arrived (or that none did).
func TestAppSection(t *testing.T) {
	st := storetest.SQLite(t, store.Options{})
	opts := dashboard.Options{Previews: st, Deliveries: st, Installations: st, Logger: discard(), Now: func() time.Time { return t0 },
		AppName: `Previews <b>bot</b>`, AppURL: "https://github.com/apps/previews-bot"}

	page := render(t, opts)
	for _, want := range []string{
		`<strong id="app-name"><a href="https://github.com/apps/previews-bot">Previews &lt;b&gt;bot&lt;/b&gt;</a></strong>`,
		`id="last-delivery" class="tone-busy">No delivery from GitHub yet`,
		`id="no-installations"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("an App without deliveries: the page lacks %s", want)
		}
	}

	ctx := context.Background()
	err := st.WithTx(ctx, func(tx *store.Tx) error {
		for _, in := range []*store.Installation{
			{ID: 1, Account: "acme", Repositories: []string{"acme/shop", "acme/api"}},
			{ID: 2, Account: "octo-org"},
			{ID: 3, Account: "gone"},
		} {
			if err := tx.UpsertInstallation(ctx, in); err != nil {
				return err
			}
		}
		if _, err := tx.MarkInstallationDeleted(ctx, 3); err != nil {
			return err
		}
		_, err := tx.InsertDelivery(ctx, &store.Delivery{Source: "app:1", GUID: "g", Event: "installation", Action: "created",
			Outcome: store.OutcomeAccepted, ReceivedAt: t0.Add(-90 * time.Second)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	page = render(t, opts)
	for _, want := range []string{
		`Last delivery from GitHub: <span class="tone-good" title="2026-03-01T11:58:30Z">1m ago</span>`,
		`<td><a href="https://github.com/acme">acme</a></td>`,
		`<td class="repos"><a href="https://github.com/acme/shop">acme/shop</a>, <a href="https://github.com/acme/api">acme/api</a></td>`,
		`<td class="repos">all repositories</td>`,
		`<td class="tone-dim">uninstalled</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(page)
	}
}

// Without an App (the sandbox's tests, older callers) there is no section.
func TestNoAppSectionWithoutApp(t *testing.T) {
	st := storetest.SQLite(t, store.Options{})
	if page := render(t, dashboard.Options{Previews: st, Deliveries: st, Logger: discard()}); strings.Contains(page, "GitHub App") {
		t.Error("an App section without an App")
	}
}
