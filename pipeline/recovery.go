package pipeline

import (
	"context"
	"sort"
	"time"

	"github.com/lovoo/goka"
)

// TableRecovery is the recovery of one partition of a table from its
// changelog topic, from goka's TableStats.Recovery.
type TableRecovery struct {
	// Table is the table's topic (<group>-table).
	Table     string `json:"table"`
	Partition int32  `json:"partition"`
	// Offset is the changelog offset recovered so far; HighWatermark the
	// one to reach (the end offset when the recovery began).
	Offset        int64 `json:"offset"`
	HighWatermark int64 `json:"high_watermark"`
	// Recovering is true until the partition is recovered.
	Recovering bool `json:"recovering"`
	// Progress is Offset / HighWatermark, 1 once recovered.
	Progress float64 `json:"progress"`
}

// recovery returns the recovery of every table partition in stats: the
// group table's and the lookup tables', by table and partition.
func (run *pipelineProcess) recovery(stats *goka.ProcessorStats) []TableRecovery {
	out := []TableRecovery{}
	group := string(goka.GroupTable(goka.Group(run.p.Group)))
	for p, ps := range stats.Group {
		if ps != nil && ps.TableStats != nil {
			out = append(out, tableRecovery(group, p, ps.TableStats))
		}
	}
	for table, vs := range stats.Lookup {
		if vs == nil {
			continue
		}
		for p, ts := range vs.Partitions {
			if ts != nil {
				out = append(out, tableRecovery(table, p, ts))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Table != out[j].Table {
			return out[i].Table < out[j].Table
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

func tableRecovery(table string, p int32, ts *goka.TableStats) TableRecovery {
	r := TableRecovery{Table: table, Partition: p, Recovering: ts.Status != goka.PartitionRunning}
	if rs := ts.Recovery; rs != nil {
		r.Offset, r.HighWatermark = rs.Offset, rs.Hwm
	}
	switch {
	case !r.Recovering:
		// Goka leaves Offset at the last record it loaded (Hwm-1).
		r.Offset = max(r.Offset, r.HighWatermark)
		r.Progress = 1
	case r.HighWatermark > 0:
		r.Progress = min(max(float64(r.Offset)/float64(r.HighWatermark), 0), 1)
	}
	return r
}

// recoveryProgress is the share of rs recovered: recovered offsets over
// high-water marks, or, while a recovering partition does not know its
// high-water mark yet, the mean of the partitions' progress. It is 1 for
// none.
func recoveryProgress(rs []TableRecovery) float64 {
	var done, total int64
	var sum float64
	unknown := false
	for _, r := range rs {
		total += r.HighWatermark
		done += min(max(r.Offset, 0), r.HighWatermark)
		sum += r.Progress
		unknown = unknown || (r.Recovering && r.HighWatermark == 0)
	}
	switch {
	case len(rs) == 0:
		return 1
	case unknown || total == 0:
		return sum / float64(len(rs))
	}
	return float64(done) / float64(total)
}

// recoverySample is a recovering pipeline's progress as last logged.
type recoverySample struct {
	at        time.Time
	recovered int64
}

// logRecovery logs the progress of each pipeline still recovering its
// tables, with its rate since the last call and the time left at that rate.
// Only the chores goroutine calls it; last holds its samples.
func (sv *Supervisor) logRecovery(ctx context.Context, last map[*pipelineProcess]recoverySample) {
	for _, run := range sv.runs {
		run.mu.Lock()
		proc, phase := run.proc, run.phase
		run.mu.Unlock()
		if proc == nil || phase != PhaseRecovering || proc.Recovered() {
			delete(last, run)
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		stats := proc.StatsWithContext(sctx)
		cancel()
		if stats == nil {
			continue
		}
		var recovered, total int64
		partitions := 0
		rs := run.recovery(stats)
		if len(rs) == 0 {
			continue // no table partitions (yet): nothing to recover
		}
		for _, r := range rs {
			total += r.HighWatermark
			recovered += min(max(r.Offset, 0), r.HighWatermark)
			if r.Recovering {
				partitions++
			}
		}
		now := time.Now()
		args := []any{"recovered", recovered, "total", total, "remaining", total - recovered,
			"progress", recoveryProgress(rs), "partitions_recovering", partitions}
		if prev, ok := last[run]; ok && now.After(prev.at) {
			rate := float64(recovered-prev.recovered) / now.Sub(prev.at).Seconds()
			args = append(args, "records_per_second", int64(rate))
			if rate > 0 {
				args = append(args, "eta", time.Duration(float64(total-recovered)/rate*float64(time.Second)).Round(100*time.Millisecond))
			}
		}
		last[run] = recoverySample{at: now, recovered: recovered}
		run.log.Info("recovering tables", args...)
	}
}

// watchLifecycle logs when proc, run under pctx (a child of ctx), is
// ready (its tables recovered) and when it starts stopping. It returns once
// pctx ends.
func (run *pipelineProcess) watchLifecycle(ctx, pctx context.Context, proc *goka.Processor) {
	began := time.Now()
	if proc.WaitForReadyContext(pctx) == nil && pctx.Err() == nil && proc.Recovered() {
		run.log.Info("pipeline ready", "took", time.Since(began).Round(time.Millisecond))
	}
	<-pctx.Done()
	reason := "shutdown"
	if ctx.Err() == nil {
		reason = "failure"
	}
	run.log.Info("pipeline stopping", "reason", reason)
}
