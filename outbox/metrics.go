package outbox

import "github.com/prometheus/client_golang/prometheus"

// Metrics are a relay's Prometheus metrics. They have no labels, so that a
// sluice without an outbox exports them at zero, like the documented list
// (deploy/metrics.txt) says.
type Metrics struct {
	published     prometheus.Counter
	deadLettered  prometheus.Counter
	batchDuration prometheus.Histogram
	pending       prometheus.Gauge
}

// NewMetrics returns a relay's metrics, registered nowhere (see Collectors).
func NewMetrics() *Metrics {
	return &Metrics{
		published: prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_outbox_rows_published_total",
			Help: "Outbox rows published to their topic and removed (or marked) after the broker acknowledged them."}),
		deadLettered: prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_outbox_dlq_rows_total",
			Help: "Poison outbox rows (unknown event type, payload that does not fit the schema) written to the outbox's dead-letter topic."}),
		batchDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sluice_outbox_batch_duration_seconds",
			Help:    "Time of one outbox batch: claim, produce, remove, commit.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8)}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sluice_outbox_pending",
			Help: "Rows of the outbox table not yet published, counted when the relay was last idle."}),
	}
}

// Collectors returns the metrics to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.published, m.deadLettered, m.batchDuration, m.pending}
}
