package pipeline_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/pipeline"
)

// TestRebalanceWhileHeld: a second instance joins while the first holds
// every partition on a dependency. The rebalance ends the first one's
// session in the middle of its held messages, which it must leave
// uncommitted without that counting as a failure: no pipeline restart. Once
// the dependency is back every message is processed, once.
func TestRebalanceWhileHeld(t *testing.T) {
	brokers, gate, u, cfg, records, keys := gatedInput(t, "rebalheld")

	restarts := newRestartLog(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, stopA := startRuntime(t, cfg, pipeline.Options{Logger: slog.New(restarts)})
	defer stopA()
	testkit.EventuallyValue(t, time.Minute, "the first instance to hold its partitions", func() (pipeline.Counts, bool) {
		c, _ := a.Counts(u)
		return c, c.Waiting
	})

	b, stopB := startRuntime(t, cfg, pipeline.Options{})
	defer stopB()
	testkit.Eventually(t, time.Minute, "both instances to own partitions", func() bool {
		return len(ownedPartitions(a, u)) > 0 && len(ownedPartitions(b, u)) > 0
	})
	if n := restarts.counts(u)[u]; n != 0 {
		t.Errorf("the first instance's pipeline restarted %d times in the rebalance, want 0", n)
	}

	gate.openKeys(keys...)
	testkit.WaitLagZero(t, brokers, u, u+"-in", time.Minute)
	ca, _ := a.Counts(u)
	cb, _ := b.Counts(u)
	if ca.Processed+cb.Processed != int64(len(records)) || ca.DeadLettered+cb.DeadLettered != 0 {
		t.Errorf("counts %+v and %+v, want %d processed in all, none dead-lettered", ca, cb, len(records))
	}
	if n := len(testkit.ReadAll(t, brokers, u+"-out", len(records), time.Minute)); n != len(records) {
		t.Errorf("%d outputs, want %d", n, len(records))
	}
	if n := restarts.counts(u)[u]; n != 0 {
		t.Errorf("the first instance's pipeline restarted %d times, want 0", n)
	}
}
