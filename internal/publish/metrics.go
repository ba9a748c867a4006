package publish

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the gateway's Prometheus metrics, by route path.
type metrics struct {
	requests *prometheus.CounterVec
	records  *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics() *metrics {
	return &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_publish_requests_total",
			Help: "HTTP publish requests answered, by route and status code.",
		}, []string{"route", "code"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_publish_records_total",
			Help: "Records the broker acknowledged for HTTP publish requests, by route.",
		}, []string{"route"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sluice_publish_request_duration_seconds",
			Help:    "Time from an HTTP publish request to its answer, by route.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 10), // 1ms to 3.8s
		}, []string{"route"}),
	}
}

// init makes a route's series visible (at zero) before its first request.
func (m *metrics) init(route string) {
	m.records.WithLabelValues(route)
	m.duration.WithLabelValues(route)
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	m.requests.Describe(ch)
	m.records.Describe(ch)
	m.duration.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.requests.Collect(ch)
	m.records.Collect(ch)
	m.duration.Collect(ch)
}
