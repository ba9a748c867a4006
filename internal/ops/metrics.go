package ops

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/internal/buildinfo"
)

// collector exports each pipeline's counts from one snapshot, so a scrape
// always sees consumed = processed + filtered + dead-lettered.
type collector struct {
	rt                                                 Source
	consumed, processed, filtered, deadLetter, retries *prometheus.Desc
	waits, ready, waiting, lag, breakerOpen            *prometheus.Desc
	lagSeconds                                         *prometheus.Desc
	recoveryOffset, recoveryHWM, recovering            *prometheus.Desc
	buildInfo                                          *prometheus.Desc
	build                                              buildinfo.Info
}

func newCollector(rt Source) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, append([]string{"pipeline"}, labels...), nil)
	}
	return &collector{
		rt:        rt,
		consumed:  d("sluice_messages_consumed_total", "Messages consumed from the pipeline's input."),
		processed: d("sluice_messages_processed_total", "Messages that went through every step."),
		filtered: prometheus.NewDesc("sluice_messages_filtered_total",
			`Messages filtered: dropped by a step (reason "step") or replayed for another pipeline (reason "replay_for_other").`,
			[]string{"pipeline", "reason"}, nil),
		deadLetter:     d("sluice_messages_dead_letter_total", "Messages written to the dead-letter topic."),
		retries:        d("sluice_retries_total", "Attempts beyond the first at messages that failed transiently (waits are not counted)."),
		waits:          d("sluice_waits_total", "Pauses of held messages, waiting for a dependency or for the dead-letter breaker to close."),
		ready:          d("sluice_pipeline_ready", "1 when the pipeline runs with its tables recovered and its dead-letter breaker closed."),
		waiting:        d("sluice_pipeline_waiting", "1 while a message is held because a dependency is unavailable or the dead-letter breaker is open."),
		lag:            d("sluice_consumer_lag", "Messages of an input partition the group has not committed (end offset minus committed offset), whoever owns the partition.", "topic", "partition"),
		breakerOpen:    d("sluice_pipeline_breaker_open", "1 while the dead-letter breaker holds the partitions because dead letters of this stage and kind flooded; 0 once it closed.", "stage", "kind"),
		lagSeconds:     d("sluice_consumer_lag_seconds", "Age in seconds of the oldest record of an input partition the group has not processed (the record at its committed offset); 0 when caught up.", "topic", "partition"),
		recoveryOffset: d("sluice_table_recovery_offset", "Changelog offset a table partition this instance holds has recovered so far.", "table", "partition"),
		recoveryHWM:    d("sluice_table_recovery_high_watermark", "Changelog offset a table partition's recovery must reach (its end offset when the recovery began).", "table", "partition"),
		recovering:     d("sluice_table_recovering", "1 while a table partition this instance holds recovers from its changelog, 0 once recovered.", "table", "partition"),
		buildInfo: prometheus.NewDesc("sluice_build_info", "Always 1; the labels say which sluice runs.",
			[]string{"version", "commit", "go_version"}, nil),
		build: buildinfo.Get(),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.consumed, c.processed, c.filtered, c.deadLetter, c.retries, c.waits, c.ready, c.waiting, c.lag, c.breakerOpen,
		c.lagSeconds, c.recoveryOffset, c.recoveryHWM, c.recovering, c.buildInfo} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	ch <- prometheus.MustNewConstMetric(c.buildInfo, prometheus.GaugeValue, 1, c.build.Version, c.build.Commit, c.build.GoVersion)
	for _, s := range c.rt.Status(ctx) {
		n := s.Counts
		ch <- prometheus.MustNewConstMetric(c.consumed, prometheus.CounterValue, float64(n.Consumed), s.Name)
		ch <- prometheus.MustNewConstMetric(c.processed, prometheus.CounterValue, float64(n.Processed), s.Name)
		ch <- prometheus.MustNewConstMetric(c.filtered, prometheus.CounterValue, float64(n.Filtered-n.ReplaysForOthers), s.Name, "step")
		ch <- prometheus.MustNewConstMetric(c.filtered, prometheus.CounterValue, float64(n.ReplaysForOthers), s.Name, "replay_for_other")
		ch <- prometheus.MustNewConstMetric(c.deadLetter, prometheus.CounterValue, float64(n.DeadLettered), s.Name)
		ch <- prometheus.MustNewConstMetric(c.retries, prometheus.CounterValue, float64(n.Retries), s.Name)
		ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(n.Waits), s.Name)
		ch <- prometheus.MustNewConstMetric(c.ready, prometheus.GaugeValue, boolFloat(s.Ready), s.Name)
		ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, boolFloat(n.Waiting), s.Name)
		for _, l := range s.LagPartitions {
			part := strconv.Itoa(int(l.Partition))
			ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(l.Lag), s.Name, s.Input, part)
			ch <- prometheus.MustNewConstMetric(c.lagSeconds, prometheus.GaugeValue, l.Seconds, s.Name, s.Input, part)
		}
		for _, r := range s.Recovery {
			part := strconv.Itoa(int(r.Partition))
			ch <- prometheus.MustNewConstMetric(c.recoveryOffset, prometheus.GaugeValue, float64(r.Offset), s.Name, r.Table, part)
			ch <- prometheus.MustNewConstMetric(c.recoveryHWM, prometheus.GaugeValue, float64(r.HighWatermark), s.Name, r.Table, part)
			ch <- prometheus.MustNewConstMetric(c.recovering, prometheus.GaugeValue, boolFloat(r.Recovering), s.Name, r.Table, part)
		}
		if b := s.Breaker; b != nil && b.Stage != "" {
			ch <- prometheus.MustNewConstMetric(c.breakerOpen, prometheus.GaugeValue, boolFloat(b.Open), s.Name, b.Stage, b.Kind)
		}
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
