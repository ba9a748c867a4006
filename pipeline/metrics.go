package pipeline

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/deadletter"
)

// metrics are the instruments the pipelines update as their messages go:
// native Prometheus counters and histograms, updated without locks. A
// Supervisor has one for all its pipelines and exports it through
// Collector; the counts of Status (Counts) are kept apart, in stats.
type metrics struct {
	messageDuration *prometheus.HistogramVec
	stepDuration    *prometheus.HistogramVec
	emitted         *prometheus.CounterVec
	deadLetters     *prometheus.CounterVec
	stageRetries    *prometheus.CounterVec
	registry        *prometheus.CounterVec
	cacheHits       prometheus.Counter
	cacheMisses     prometheus.Counter
	redeliveries    *prometheus.CounterVec
}

// durationBuckets span a filter's microseconds to a held message's minute.
var durationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

func newMetrics() *metrics {
	m := &metrics{
		messageDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sluice_message_duration_seconds",
			Help:    "Time from a message's consumption to its outcome: its outputs or its dead letter acknowledged by the broker, or it filtered.",
			Buckets: durationBuckets,
		}, []string{"pipeline"}),
		stepDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sluice_step_duration_seconds",
			Help:    `Time a step takes per message, by step ("<index>:<type>"); only for pipelines with metrics: {steps: true}.`,
			Buckets: durationBuckets,
		}, []string{"pipeline", "step"}),
		emitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_records_emitted_total",
			Help: "Records written to each output topic, counted when the broker acknowledged them.",
		}, []string{"pipeline", "topic"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_dlq_records_total",
			Help: "Dead letters written, by the stage and kind in their sluice.error.stage and sluice.error.kind headers, counted when the broker acknowledged them.",
		}, []string{"pipeline", "stage", "kind"}),
		stageRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_stage_retries_total",
			Help: "Attempts beyond the first at messages that failed transiently, by the stage that failed.",
		}, []string{"pipeline", "stage"}),
		registry: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_registry_requests_total",
			Help: "Schema registry requests of the pipelines' Avro codecs (writer schemas fetched by id, output schemas registered), by result: ok, not_found or error.",
		}, []string{"result"}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_schema_cache_hits_total",
			Help: "Schema lookups of the Avro codecs answered from their cache.",
		}),
		cacheMisses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_schema_cache_misses_total",
			Help: "Schema lookups of the Avro codecs that had to ask the schema registry.",
		}),
		redeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_state_redeliveries_total",
			Help: "Messages of stateful pipelines whose effect the table already held (redelivered after a crash, same input history, at or before the key's stored offset): their state is not applied again. They count as processed too.",
		}, []string{"pipeline"}),
	}
	// Every result from the start, so that rates over them need no absent().
	for _, r := range []codecs.RegistryResult{codecs.RegistryOK, codecs.RegistryNotFound, codecs.RegistryError} {
		m.registry.WithLabelValues(string(r))
	}
	return m
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.messageDuration, m.stepDuration, m.emitted, m.deadLetters, m.stageRetries, m.registry, m.cacheHits, m.cacheMisses, m.redeliveries}
}

// Describe and Collect make metrics a prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

// Collector returns the metrics the pipelines update per message (durations,
// records emitted, dead letters, retries by stage, registry requests and
// schema cache lookups). The counts, lag and readiness of Status are not in
// it: internal/ops exports those from Status.
func (sv *Supervisor) Collector() prometheus.Collector { return sv.metrics }

// RegistryRequest and SchemaCacheLookup make metrics the codecs.Stats of
// every Avro codec of the supervisor.
func (m *metrics) RegistryRequest(r codecs.RegistryResult) {
	m.registry.WithLabelValues(string(r)).Inc()
}

func (m *metrics) SchemaCacheLookup(hit bool) {
	if hit {
		m.cacheHits.Inc()
	} else {
		m.cacheMisses.Inc()
	}
}

var _ codecs.Stats = (*metrics)(nil)

// pipelineMetrics are one pipeline's instruments, resolved once so that a
// message costs no label lookup on its way.
type pipelineMetrics struct {
	duration prometheus.Observer
	// steps are the step histograms by step index; nil unless the pipeline
	// asks for them.
	steps []prometheus.Observer
	// emitted are the counters of the output topics.
	emitted map[string]prometheus.Counter
	// deadLetters and retries have the pipeline's label set.
	deadLetters *prometheus.CounterVec
	retries     *prometheus.CounterVec
	// redeliveries counts the messages whose state was applied already.
	redeliveries prometheus.Counter
}

func (m *metrics) forPipeline(p *Pipeline) *pipelineMetrics {
	pm := &pipelineMetrics{
		duration:    m.messageDuration.WithLabelValues(p.Name),
		emitted:     map[string]prometheus.Counter{},
		deadLetters: m.deadLetters.MustCurryWith(prometheus.Labels{"pipeline": p.Name}),
		retries:     m.stageRetries.MustCurryWith(prometheus.Labels{"pipeline": p.Name}),
	}
	if p.Stateful() {
		pm.redeliveries = m.redeliveries.WithLabelValues(p.Name)
	}
	for _, name := range p.OutputList {
		topic := p.Outputs[name].Topic
		pm.emitted[topic] = m.emitted.WithLabelValues(p.Name, topic)
	}
	if p.Metrics.Steps {
		for i, s := range p.Steps {
			pm.steps = append(pm.steps, m.stepDuration.WithLabelValues(p.Name, stepLabel(i, s)))
		}
	}
	return pm
}

// stepLabel is a step's step label: its index and type, "0:filter".
func stepLabel(i int, s *Step) string { return strconv.Itoa(i) + ":" + s.Type }

// replayed counts a message whose state the table held already.
func (m *pipelineMetrics) replayed() {
	if m.redeliveries != nil {
		m.redeliveries.Inc()
	}
}

// stepStart returns the time a step starts, or the zero time when the
// pipeline does not time its steps (sparing the clock read).
func (m *pipelineMetrics) stepStart() time.Time {
	if m.steps == nil {
		return time.Time{}
	}
	return time.Now()
}

// stepDone observes step i's time since began (from stepStart).
func (m *pipelineMetrics) stepDone(i int, began time.Time) {
	if m.steps != nil && i < len(m.steps) {
		m.steps[i].Observe(time.Since(began).Seconds())
	}
}

// acked counts one record of a message of outcome o that the broker
// acknowledged: an output record, or a dead letter by its stage and kind.
func (m *pipelineMetrics) acked(rec outRecord, o outcome) {
	if o != outcomeDeadLettered {
		if c, ok := m.emitted[rec.topic]; ok {
			c.Inc()
		}
		return
	}
	var stage, kind string
	for _, h := range rec.headers {
		switch string(h.Key) {
		case deadletter.HeaderStage:
			stage = string(h.Value)
		case deadletter.HeaderKind:
			kind = string(h.Value)
		}
	}
	m.deadLetters.WithLabelValues(stage, kind).Inc()
}

// finish counts the outcome of a message consumed at began: its count in
// stats, and its duration.
func (r *handler) finish(o outcome, began time.Time) {
	if o == outcomeWindowClosed {
		return // not a consumed message
	}
	r.stats.record(o)
	r.m.duration.Observe(time.Since(began).Seconds())
}

// retried counts a retry of a message that failed at stage.
func (r *handler) retried(stage string) {
	r.stats.retry()
	r.m.retries.WithLabelValues(stage).Inc()
}
