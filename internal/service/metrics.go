package service

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
)

// cloudMetrics count every Hasura Cloud API attempt (retries included: the
// free tier's quota counts each one) by operation and outcome.
type cloudMetrics struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// githubRemaining is GitHub's, kept here to be registered once: the
	// service may activate a new App without a restart.
	githubRemaining *prometheus.GaugeVec
}

func newRegistry() (*prometheus.Registry, *cloudMetrics) {
	reg := prometheus.NewRegistry()
	m := &cloudMetrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hasura_preview_cloud_calls_total",
			Help: "Hasura Cloud API attempts by operation and outcome (ok, or the error class: transient, unauthorized, quota_exceeded, ...).",
		}, []string{"op", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hasura_preview_cloud_call_seconds",
			Help:    "Duration of Hasura Cloud API attempts by operation.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30},
		}, []string{"op"}),
		githubRemaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hasura_preview_github_rate_limit_remaining",
			Help: "Requests left in each installation's GitHub core rate-limit window, as of its last answer.",
		}, []string{"installation"}),
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.calls, m.duration, m.githubRemaining)
	return reg, m
}

// observe is the cloud.Observer.
func (m *cloudMetrics) observe(op string, d time.Duration, err error) {
	m.calls.WithLabelValues(op, outcome(err)).Inc()
	m.duration.WithLabelValues(op).Observe(d.Seconds())
}

// outcome names err's class with a bounded set of label values.
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	for _, c := range []struct {
		class error
		label string
	}{
		{cloud.ErrUnauthorized, "unauthorized"},
		{cloud.ErrNotFound, "not_found"},
		{cloud.ErrQuotaExceeded, "quota_exceeded"},
		{cloud.ErrHashConflict, "hash_conflict"},
		{cloud.ErrInvalidInput, "invalid_input"},
		{cloud.ErrTransient, "transient"},
		{cloud.ErrAPI, "api_error"},
		{context.Canceled, "cancelled"},
		{context.DeadlineExceeded, "timeout"},
	} {
		if errors.Is(err, c.class) {
			return c.label
		}
	}
	return "error"
}
