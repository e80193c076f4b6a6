package webhook

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the intake's Prometheus series.
type metrics struct {
	deliveries *prometheus.CounterVec
	latency    *prometheus.HistogramVec
}

// eventLabel bounds the event label: an event the intake does not handle
// counts as "other", whatever a sender puts in the header.
func eventLabel(event string) string {
	switch event {
	case "ping", "pull_request", "issue_comment", "installation", "installation_repositories":
		return event
	case "":
		return "none"
	}
	return "other"
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hasura_preview_webhook_deliveries_total",
			Help: "Webhook deliveries by event and outcome (accepted, duplicate, ignored, rejected, error).",
		}, []string{"event", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hasura_preview_webhook_intake_seconds",
			Help:    "Time from request to answer, by outcome.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"outcome"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.deliveries, m.latency} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
