package webhook

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the intake's Prometheus series. Labels are bounded: events
// outside knownEvents count as "other", whatever a sender puts in the header.
type metrics struct {
	deliveries *prometheus.CounterVec
	latency    *prometheus.HistogramVec
}

var knownEvents = map[string]bool{
	"ping": true, "pull_request": true, "issue_comment": true,
	"installation": true, "installation_repositories": true,
}

func eventLabel(event string) string {
	if knownEvents[event] {
		return event
	}
	if event == "" {
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
