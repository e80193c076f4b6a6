package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
)

func newRoutes(t *testing.T, db Pinger) (*routes, *httptest.Server) {
	t.Helper()
	r := &routes{
		webhook:   http.NotFoundHandler(),
		dashboard: http.NotFoundHandler(),
		setup:     http.NotFoundHandler(),
		registry:  prometheus.NewRegistry(),
		db:        db,
		log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		draining:  new(atomic.Bool),
	}
	srv := httptest.NewServer(r.mux())
	t.Cleanup(srv.Close)
	return r, srv
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestReadyz: ready while the store answers, 503 once it does not or once
// shutdown begins; /healthz stays 200 throughout (a database outage must
// not get the process killed).
func TestReadyz(t *testing.T) {
	st := storetest.SQLite(t, store.Options{})
	r, srv := newRoutes(t, st)
	if got := status(t, srv.URL+"/readyz"); got != 200 {
		t.Fatalf("readyz with a live store: %d", got)
	}
	r.draining.Store(true)
	if got := status(t, srv.URL+"/readyz"); got != 503 {
		t.Errorf("readyz while draining: %d", got)
	}
	r.draining.Store(false)
	st.Close()
	if got := status(t, srv.URL+"/readyz"); got != 503 {
		t.Errorf("readyz with a closed store: %d", got)
	}
	if got := status(t, srv.URL+"/healthz"); got != 200 {
		t.Errorf("healthz with a closed store: %d", got)
	}
}

func TestOutcomeLabels(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, "ok"},
		{&cloud.Error{Op: "x", Class: cloud.ErrTransient}, "transient"},
		{&cloud.Error{Op: "x", Class: cloud.ErrQuotaExceeded}, "quota_exceeded"},
		{&cloud.Error{Op: "x", Class: cloud.ErrUnauthorized}, "unauthorized"},
		{context.Canceled, "cancelled"},
		{errors.New("something else"), "error"},
	} {
		if got := outcome(c.err); got != c.want {
			t.Errorf("outcome(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestCloudMetrics(t *testing.T) {
	reg, m := newRegistry()
	m.observe(cloud.OpJob, 0, nil)
	m.observe(cloud.OpJob, 0, &cloud.Error{Op: cloud.OpJob, Class: cloud.ErrTransient})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, mf := range mfs {
		if mf.GetName() != "hasura_preview_cloud_calls_total" {
			continue
		}
		for _, metric := range mf.GetMetric() {
			var labels []string
			for _, l := range metric.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			got = append(got, fmt.Sprintf("%s %g", strings.Join(labels, ","), metric.GetCounter().GetValue()))
		}
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{"op=jobs_by_pk,outcome=ok 1", "op=jobs_by_pk,outcome=transient 1"} {
		if !strings.Contains(joined, want) {
			t.Errorf("cloud metrics lack %s:\n%s", want, joined)
		}
	}
}
