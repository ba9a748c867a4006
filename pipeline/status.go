package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/sluicehq/sluice/codecs"
)

// Status is what /pipelines shows of one pipeline.
type Status struct {
	Name  string `json:"name"`
	Group string `json:"group"`
	Input string `json:"input"`
	Phase string `json:"phase"`
	Ready bool   `json:"ready"`
	// Reason says why the pipeline is not ready; empty when it is.
	Reason string `json:"reason,omitempty"`
	// Partitions are the input partitions this instance owns.
	Partitions []int32 `json:"partitions"`
	// Lag is the sum of LagPartitions: the messages of the input the group
	// has not committed yet, over every partition, owned here or not.
	Lag           int64          `json:"lag"`
	LagPartitions []PartitionLag `json:"lag_partitions"`
	// LagError says why the lag could not be read last time (the lag shown
	// is the last one read).
	LagError string `json:"lag_error,omitempty"`
	// Recovery is the recovery of the table partitions this instance
	// holds: its group table's and its lookup tables'. RecoveryProgress is
	// their share recovered, from 0 to 1; without table partitions (yet) it
	// is 1 once the pipeline is ready and 0 before.
	Recovery         []TableRecovery `json:"recovery"`
	RecoveryProgress float64         `json:"recovery_progress"`
	// Breaker is the dead-letter breaker's state (absent when it is off).
	Breaker   *BreakerStatus `json:"breaker,omitempty"`
	Counts    Counts         `json:"counts"`
	Started   time.Time      `json:"started"`
	LastError string         `json:"last_error,omitempty"`
}

// Status reports every running pipeline, in configuration order.
func (sv *Supervisor) Status(ctx context.Context) []Status {
	out := make([]Status, 0, len(sv.runs))
	for _, run := range sv.runs {
		out = append(out, run.status(ctx))
	}
	return out
}

func (run *pipelineProcess) status(ctx context.Context) Status {
	run.mu.Lock()
	proc, phase, lastErr, reason := run.proc, run.phase, run.lastErr, run.reason
	lag, lagErr := run.lag, run.lagErr
	run.mu.Unlock()
	st := Status{
		Name:          run.p.Name,
		Group:         run.p.Group,
		Input:         run.p.Input.Topic,
		Phase:         phase,
		Counts:        run.stats.snapshot(),
		Started:       run.stats.started,
		Partitions:    []int32{},
		LagPartitions: []PartitionLag{},
		Recovery:      []TableRecovery{},
	}
	st.Breaker = run.breaker.snapshot()
	if lastErr != nil {
		st.LastError = lastErr.Error()
	}
	for _, l := range lag {
		st.Lag += l.Lag
		st.LagPartitions = append(st.LagPartitions, l)
	}
	if lagErr != nil {
		st.LagError = lagErr.Error()
	}
	if proc != nil && (phase == PhaseRecovering || phase == PhaseRunning) {
		if proc.Recovered() {
			st.Phase, st.Ready = PhaseRunning, true
		}
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		stats := proc.StatsWithContext(sctx)
		cancel()
		if stats != nil {
			for p := range stats.Group {
				st.Partitions = append(st.Partitions, p)
			}
			st.Recovery = run.recovery(stats)
		}
		sort.Slice(st.Partitions, func(i, j int) bool { return st.Partitions[i] < st.Partitions[j] })
	}
	st.RecoveryProgress = recoveryProgress(st.Recovery)
	if len(st.Recovery) == 0 && !st.Ready {
		st.RecoveryProgress = 0
	}
	switch {
	case st.Breaker != nil && st.Breaker.Open:
		st.Ready, st.Reason = false, st.Breaker.Reason
	case st.Ready:
	case st.Phase == PhaseChecking:
		st.Reason = reason
	case st.Phase == PhaseRecovering:
		st.Reason = "recovering its tables from their changelog topics"
	case st.Phase == PhaseRestarting:
		st.Reason = "its processor stopped and is restarting: " + st.LastError
	case st.Phase == PhaseFailed:
		st.Reason = "failed for good: " + st.LastError
	default:
		st.Reason = st.Phase
	}
	return st
}

// Errors of State.
var (
	ErrUnknownPipeline = errors.New("unknown pipeline")
	ErrStateless       = errors.New("pipeline has no state")
	ErrUnknownKey      = errors.New("key not found")
	ErrNotReady        = errors.New("pipeline is not running on this instance yet")
)

// State returns a key's state in a pipeline's table, in JSON form (times as
// Unix milliseconds). Only keys of partitions this instance owns are found.
func (sv *Supervisor) State(name, key string) (map[string]any, error) {
	var run *pipelineProcess
	for _, r := range sv.runs {
		if r.p.Name == name {
			run = r
		}
	}
	if run == nil {
		return nil, ErrUnknownPipeline
	}
	if !run.p.Stateful() {
		return nil, ErrStateless
	}
	run.mu.Lock()
	proc := run.proc
	run.mu.Unlock()
	if proc == nil || !proc.Recovered() {
		return nil, ErrNotReady
	}
	v, err := proc.Get(key)
	if err != nil {
		return nil, err
	}
	if bad, ok := v.(badEntry); ok {
		return nil, fmt.Errorf("the table entry of key %q cannot be read: %w", key, bad.err)
	}
	e, ok := v.(*TableEntry)
	if h := run.history.Load(); !ok || e == nil || (h != nil && h.void(e)) {
		return nil, ErrUnknownKey
	}
	out, _ := codecs.ToJSON(e.State).(map[string]any)
	return out, nil
}

// Counts returns the counts of the named pipeline.
func (sv *Supervisor) Counts(name string) (Counts, bool) {
	for _, r := range sv.runs {
		if r.p.Name == name {
			return r.stats.snapshot(), true
		}
	}
	return Counts{}, false
}

// Names lists the pipelines this supervisor runs, in configuration order.
func (sv *Supervisor) Names() []string {
	out := make([]string, len(sv.runs))
	for i, r := range sv.runs {
		out[i] = r.p.Name
	}
	return out
}
