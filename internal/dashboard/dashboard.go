// Package dashboard serves the service's status page, GET /: every preview,
// the GitHub App with its installations, the recent deliveries and the
// queue depth. It is html/template with no script: every value (branch
// names and titles come from strangers) is escaped, and only http(s) URLs
// become links.
package dashboard

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/store"
)

// Previews is the part of the store the preview table reads (*store.Store).
type Previews interface {
	ListPreviews(ctx context.Context, f store.PreviewFilter) ([]*store.Preview, error)
	ListOpenPRs(ctx context.Context) ([]*store.PullRequest, error)
	GetPR(ctx context.Context, key string) (*store.PullRequest, error)
}

// Deliveries is the part of the store the deliveries table reads (*store.Store).
type Deliveries interface {
	RecentDeliveries(ctx context.Context, limit int) ([]*store.Delivery, error)
}

// Installations is the part of the store the App section reads (*store.Store).
type Installations interface {
	ListInstallations(ctx context.Context) ([]*store.Installation, error)
}

// Queue reports job counts by state (*jobs.Client).
type Queue interface {
	Stats(ctx context.Context) (map[string]int, error)
}

// Defaults of Options.
const (
	DefaultMaxPreviews   = 500
	DefaultMaxDeliveries = 50
	DefaultRefresh       = 10 * time.Second
	DefaultWebURL        = "https://github.com"
)

// Options configures a Handler. Previews and Deliveries are required.
type Options struct {
	Previews   Previews
	Deliveries Deliveries
	Queue      Queue  // may be nil: the queue section then says so
	WebURL     string // GitHub's web root for links [DefaultWebURL]
	// MaxPreviews and MaxDeliveries bound the tables.
	MaxPreviews   int
	MaxDeliveries int
	Refresh       time.Duration    // the page's meta refresh; negative turns it off
	Now           func() time.Time // [time.Now]
	Logger        *slog.Logger     // [slog.Default()]
	Title         string           // ["hasura-preview"]
	// AppName, AppURL and Installations (optional) show the GitHub App and
	// where it is installed, so an operator sees that GitHub reaches the service.
	AppName       string
	AppURL        string
	Installations Installations
}

// Handler serves the dashboard.
type Handler struct {
	o Options
}

// New checks opts and returns the Handler.
func New(opts Options) (*Handler, error) {
	if opts.Previews == nil || opts.Deliveries == nil {
		return nil, errors.New("dashboard: Previews and Deliveries are required")
	}
	opts.WebURL = strings.TrimSuffix(cmp.Or(opts.WebURL, DefaultWebURL), "/")
	if opts.MaxPreviews <= 0 {
		opts.MaxPreviews = DefaultMaxPreviews
	}
	if opts.MaxDeliveries <= 0 {
		opts.MaxDeliveries = DefaultMaxDeliveries
	}
	opts.Refresh = cmp.Or(opts.Refresh, DefaultRefresh)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Logger = cmp.Or(opts.Logger, slog.Default())
	opts.Title = cmp.Or(opts.Title, "hasura-preview")
	return &Handler{o: opts}, nil
}

// WebURL derives GitHub's web root from its REST API root: https://HOST for
// a GitHub Enterprise Server's https://HOST/api/v3/, else DefaultWebURL.
func WebURL(apiURL string) string {
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" {
		return DefaultWebURL
	}
	if strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v3") && !strings.EqualFold(u.Host, "api.github.com") {
		return u.Scheme + "://" + u.Host
	}
	return DefaultWebURL
}

// ServeHTTP renders the page. A store failure answers 503: a dashboard that
// hides an outage behind empty tables would mislead.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	page, err := h.load(r.Context())
	if err != nil {
		h.o.Logger.ErrorContext(r.Context(), "dashboard: reading state failed", "error", err)
		http.Error(w, "the service's database is not answering; see the service log", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// A CSP without script turns any escaping slip into a dead string.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if err := pageTemplate.Execute(w, page); err != nil {
		h.o.Logger.ErrorContext(r.Context(), "dashboard: rendering failed", "error", err)
	}
}

// page is what the template renders.
type page struct {
	Title        string
	RefreshSecs  int
	GeneratedAt  string
	Previews     []previewRow
	Deliveries   []deliveryRow
	Queue        []queueRow
	QueueMissing bool
	QueueError   string

	App           *appSection
	Installations []installationRow
}

// appSection is the GitHub App and whether deliveries reach the service.
type appSection struct {
	Name          string
	URL           string // http(s) only
	LastDelivery  string // "12s ago", or "" when none arrived yet
	LastTitle     string // exact time
	ListInstalled bool   // the installations table is shown
}

type repoLink struct {
	Name string
	URL  string // "" where no link
}

type installationRow struct {
	Account      string
	AccountURL   string
	Repositories []repoLink // "all repositories" when it covers every one
	State        string     // active, suspended, uninstalled
	StateTone    string
}

type previewRow struct {
	Repo       string
	RepoURL    string
	PR         string // "#2"
	PRURL      string
	Title      string
	Branch     string
	Status     string
	StatusTone string // a CSS class suffix, from a fixed set
	Endpoint   string // text
	EndpointOK bool   // http(s): rendered as a link
	Console    string
	ConsoleOK  bool
	Age        string
	AgeTitle   string // exact time
	LastError  string
	// APIChanges is the API review's summary line for the PR's head, as
	// the comment shows it ("2 tables added · 1 permission widened ⚠").
	APIChanges string
}

type deliveryRow struct {
	Time        string
	TimeTitle   string
	Event       string
	Repo        string
	PR          string
	PRURL       string
	Outcome     string
	OutcomeTone string
	Reason      string
}

type queueRow struct {
	State string
	Count int
}

func (h *Handler) load(ctx context.Context) (*page, error) {
	now := h.o.Now()
	p := &page{Title: h.o.Title, GeneratedAt: now.UTC().Format(time.RFC3339)}
	if h.o.Refresh > 0 {
		p.RefreshSecs = max(int(h.o.Refresh/time.Second), 1)
	}
	rows, err := h.previewRows(ctx, now)
	if err != nil {
		return nil, err
	}
	p.Previews = rows
	ds, err := h.o.Deliveries.RecentDeliveries(ctx, h.o.MaxDeliveries)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		p.Deliveries = append(p.Deliveries, h.deliveryRow(d, now))
	}
	if err := h.appSection(ctx, p, ds, now); err != nil {
		return nil, err
	}
	if h.o.Queue == nil {
		p.QueueMissing = true
		return p, nil
	}
	stats, err := h.o.Queue.Stats(ctx)
	if err != nil {
		// A River query can fail alone; the rest of the page is still worth showing.
		p.QueueError = "could not count jobs"
		h.o.Logger.WarnContext(ctx, "dashboard: counting jobs failed", "error", err)
		return p, nil
	}
	p.Queue = queueRows(stats)
	return p, nil
}

// appSection fills the App's name, the last delivery's time and the
// installations, when given them.
func (h *Handler) appSection(ctx context.Context, p *page, ds []*store.Delivery, now time.Time) error {
	if h.o.AppName == "" && h.o.Installations == nil {
		return nil
	}
	a := &appSection{Name: h.o.AppName}
	if isWebURL(h.o.AppURL) {
		a.URL = h.o.AppURL
	}
	if len(ds) > 0 {
		// RecentDeliveries is newest first.
		a.LastDelivery = age(now.Sub(ds[0].ReceivedAt)) + " ago"
		a.LastTitle = ds[0].ReceivedAt.UTC().Format(time.RFC3339)
	}
	p.App = a
	if h.o.Installations == nil {
		return nil
	}
	a.ListInstalled = true
	insts, err := h.o.Installations.ListInstallations(ctx)
	if err != nil {
		return err
	}
	for _, in := range insts {
		row := installationRow{Account: in.Account, State: "active", StateTone: "good"}
		if validName(in.Account) {
			row.AccountURL = h.o.WebURL + "/" + url.PathEscape(in.Account)
		}
		switch {
		case in.Deleted:
			row.State, row.StateTone = "uninstalled", "dim"
		case in.Suspended:
			row.State, row.StateTone = "suspended", "bad"
		}
		if in.Repositories == nil {
			row.Repositories = []repoLink{{Name: "all repositories"}}
		}
		for _, full := range in.Repositories {
			owner, repo, _ := strings.Cut(full, "/")
			row.Repositories = append(row.Repositories, repoLink{Name: full, URL: h.repoURL(owner, repo)})
		}
		p.Installations = append(p.Installations, row)
	}
	return nil
}

// previewRows lists every preview the store knows, newest first, plus open
// pull requests that have no preview row yet (their job has not run).
func (h *Handler) previewRows(ctx context.Context, now time.Time) ([]previewRow, error) {
	previews, err := h.o.Previews.ListPreviews(ctx, store.PreviewFilter{Limit: h.o.MaxPreviews})
	if err != nil {
		return nil, err
	}
	open, err := h.o.Previews.ListOpenPRs(ctx)
	if err != nil {
		return nil, err
	}
	prs := make(map[string]*store.PullRequest, len(open))
	for _, pr := range open {
		prs[pr.Key] = pr
	}
	type item struct {
		pv *store.Preview
		pr *store.PullRequest
		at time.Time
	}
	items := make([]item, 0, len(previews)+len(open))
	seen := make(map[string]bool, len(previews))
	for _, pv := range previews {
		seen[pv.Key] = true
		pr := prs[pv.Key]
		if pr == nil {
			pr, err = h.o.Previews.GetPR(ctx, pv.Key)
			if errors.Is(err, store.ErrNotFound) {
				pr, err = nil, nil // forgotten (uninstalled): the preview row still says what happened
			}
			if err != nil {
				return nil, err
			}
		}
		items = append(items, item{pv: pv, pr: pr, at: pv.UpdatedAt})
	}
	for _, pr := range open {
		if !seen[pr.Key] && len(items) < h.o.MaxPreviews {
			items = append(items, item{pr: pr, at: pr.UpdatedAt})
		}
	}
	sort.SliceStable(items, func(a, b int) bool { return items[a].at.After(items[b].at) })
	out := make([]previewRow, 0, len(items))
	for _, it := range items {
		out = append(out, h.previewRow(it.pv, it.pr, now))
	}
	return out, nil
}

func (h *Handler) previewRow(pv *store.Preview, pr *store.PullRequest, now time.Time) previewRow {
	var row previewRow
	key := ""
	switch {
	case pv != nil:
		key = pv.Key
	case pr != nil:
		key = pr.Key
	}
	owner, repo, number := splitKey(key)
	if pr != nil {
		owner, repo, number = pr.BaseOwner, pr.BaseRepo, pr.Number
		row.Title, row.Branch = pr.Title, pr.Branch
	}
	row.Repo = owner + "/" + repo
	if owner == "" && repo == "" {
		row.Repo = key
	}
	row.RepoURL = h.repoURL(owner, repo)
	row.PR, row.PRURL = h.prLink(owner, repo, number)
	row.Status = "queued"
	var created time.Time
	if pr != nil {
		created = pr.CreatedAt
	}
	if pv != nil {
		row.Status = cmp.Or(string(pv.Status), "queued")
		row.Endpoint, row.EndpointOK = pv.Endpoint, isWebURL(pv.Endpoint)
		row.Console, row.ConsoleOK = pv.ConsoleURL, isWebURL(pv.ConsoleURL)
		row.LastError = pv.LastError
		row.APIChanges = apiSummary(pv.RunState)
		created = pv.CreatedAt
	}
	row.StatusTone = tone(row.Status)
	if !created.IsZero() {
		row.Age = age(now.Sub(created))
		row.AgeTitle = created.UTC().Format(time.RFC3339)
	}
	return row
}

func (h *Handler) deliveryRow(d *store.Delivery, now time.Time) deliveryRow {
	row := deliveryRow{
		Time:      age(now.Sub(d.ReceivedAt)) + " ago",
		TimeTitle: d.ReceivedAt.UTC().Format(time.RFC3339),
		Event:     d.Event,
		Repo:      d.Repo,
		Outcome:   string(d.Outcome),
		Reason:    d.Reason,
	}
	if d.Action != "" {
		row.Event += "/" + d.Action
	}
	if d.Redeliveries > 0 {
		row.Reason = strings.TrimPrefix(row.Reason+"; ", "; ") + fmt.Sprintf("redelivered %d×", d.Redeliveries)
	}
	owner, repo, _ := strings.Cut(d.Repo, "/")
	row.PR, row.PRURL = h.prLink(owner, repo, d.PRNumber)
	row.OutcomeTone = tone(row.Outcome)
	return row
}

// repoURL links a repository, or returns "" when the names would not make
// a path GitHub could have.
func (h *Handler) repoURL(owner, repo string) string {
	if !validName(owner) || !validName(repo) {
		return ""
	}
	return h.o.WebURL + "/" + url.PathEscape(owner) + "/" + url.PathEscape(repo)
}

// prLink is "#N" and the pull request's URL ("" where no link).
func (h *Handler) prLink(owner, repo string, number int) (string, string) {
	if number <= 0 {
		return "", ""
	}
	u := h.repoURL(owner, repo)
	if u != "" {
		u += "/pull/" + strconv.Itoa(number)
	}
	return "#" + strconv.Itoa(number), u
}

var nameRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

func validName(s string) bool { return s != "." && s != ".." && nameRe.MatchString(s) }

// splitKey reverses store.PRKey.
func splitKey(key string) (owner, repo string, number int) {
	full, num, ok := strings.Cut(key, "#")
	if !ok {
		return "", "", 0
	}
	owner, repo, _ = strings.Cut(full, "/")
	number, _ = strconv.Atoi(num)
	return owner, repo, number
}

func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}

// tone maps a status or outcome to one of a fixed set of CSS classes.
func tone(s string) string {
	switch s {
	case string(store.StatusReady), string(store.OutcomeAccepted):
		return "good"
	case string(store.StatusFailed), string(store.OutcomeRejected), "error", "timed_out":
		return "bad"
	case string(store.StatusBuilding), string(store.StatusQueued), string(store.StatusDeleting), "creating", "deploying":
		return "busy"
	}
	return "dim"
}

func age(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d"
}

// queueRows orders River's states the way a job moves through them,
// leaving out empty ones but those an operator looks for first.
func queueRows(stats map[string]int) []queueRow {
	order := []string{"available", "scheduled", "running", "retryable", "pending", "completed", "cancelled", "discarded"}
	always := map[string]bool{"available": true, "running": true, "retryable": true}
	var out []queueRow
	for _, s := range order {
		if n := stats[s]; n > 0 || always[s] {
			out = append(out, queueRow{State: s, Count: n})
		}
	}
	for _, s := range slices.Sorted(maps.Keys(stats)) {
		if !slices.Contains(order, s) && stats[s] > 0 {
			out = append(out, queueRow{State: s, Count: stats[s]})
		}
	}
	return out
}

// apiSummary reads only the API review's summary line from the
// reconciler's run state (JSON).
func apiSummary(runState []byte) string {
	var s struct {
		APISummary string `json:"api_summary"`
	}
	if len(runState) == 0 || json.Unmarshal(runState, &s) != nil {
		return ""
	}
	return s.APISummary
}
