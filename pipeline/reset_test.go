package pipeline_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/pipeline"
)

// TestResetReprocesses runs the reference user-stats pipeline over 20,000
// events, then reprocesses them three ways, each time with a new process as
// a user would:
//   - reset to earliest with the state cleared: the state equals one clean
//     run's, not double;
//   - reset to earliest with the state kept: every event is applied once
//     more (what the README says), never skipped as a redelivery;
//   - the input topic deleted and created again with new events at offsets
//     the table has seen: they are applied, not taken for redeliveries.
//
// A reset is refused while the pipeline runs, and a dry run (a plan not
// applied) changes no offset.
func TestResetReprocesses(t *testing.T) {
	env := testkit.Env(t)
	cfg, names := referenceConfig(t, env)
	brokers := env.Brokers()
	const partitions = 6
	testkit.CreateTopic(t, brokers, names.input, partitions, nil)
	v1, v2 := userEventCodecs(t, env.RegistryURL(), names.input)
	seed := testkit.Seed(t)

	const n = 20000
	events := demo.GenerateEvents(seed, n, 300, 0.02)
	records, err := demo.Records(names.input, events, v1, v2, 999999)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Produce(t, brokers, records)
	adm := testkit.Admin(t, brokers)
	ctx := t.Context()
	p := cfg.Pipeline(names.stats)

	// run processes the input once more in a new process and returns the
	// table's state of every user of want.
	run := func(what string, consumed int64, want []demo.Event, whileRunning func()) {
		t.Helper()
		rt, stop := startRuntime(t, cfg, pipeline.Options{Only: []string{names.stats}})
		waitConsumed(t, rt, names.stats, consumed, 3*time.Minute)
		exp := testkit.ExpectUserStats(want)
		compareStats(t, what, exp, tableStates(t, rt, names.stats, exp))
		if whileRunning != nil {
			whileRunning()
		}
		stop()
	}
	refusedWhileLive := func() {
		_, err := pipeline.PlanReset(ctx, adm, p, pipeline.ResetTo{Earliest: true, Offset: -1}, true)
		if !errors.Is(err, pipeline.ErrGroupLive) {
			t.Errorf("reset while the pipeline runs: %v, want ErrGroupLive", err)
		}
	}
	run("first run", n, events, refusedWhileLive)
	ends := endOffsets(t, adm, names.input)

	// A plan not applied (what --dry-run prints) changes nothing.
	plan, err := pipeline.PlanReset(ctx, adm, p, pipeline.ResetTo{Earliest: true, Offset: -1}, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, rp := range plan.Partitions {
		if rp.Current != ends[rp.Partition] || rp.New != 0 {
			t.Errorf("plan for partition %d: current %d, new %d; want %d and 0", rp.Partition, rp.Current, rp.New, ends[rp.Partition])
		}
	}
	if got := committedOffsets(t, adm, names.statsGroup, names.input); !equalOffsets(got, ends) {
		t.Errorf("after a plan alone the group's offsets are %v, want them unchanged %v", got, ends)
	}

	// Earliest, state cleared: one clean run's state.
	if err := plan.Apply(ctx, adm); err != nil {
		t.Fatal(err)
	}
	run("after a reset with the state cleared", n, events, nil)

	// Earliest, state kept: every event applied again.
	plan, err = pipeline.PlanReset(ctx, adm, p, pipeline.ResetTo{Earliest: true, Offset: -1}, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.Apply(ctx, adm); err != nil {
		t.Fatal(err)
	}
	twice := slices.Concat(events, events)
	run("after a reset with the state kept", n, twice, nil)

	// The input deleted and created again: its new records have offsets the
	// table has seen, in another topic.
	recreate(t, adm, names.input, partitions)
	// Kafka drops the committed offsets of a deleted topic, and with them
	// the reset generation: the group starts the new topic from the
	// beginning, and only the topic id tells its records from the old ones.
	if got := committedOffsets(t, adm, names.statsGroup, names.input); len(got) != 0 {
		t.Fatalf("the group kept offsets %v of the deleted topic", got)
	}
	more := demo.GenerateEvents(seed+1, 2000, 300, 0)
	recs, err := demo.Records(names.input, more, v1, v2, 999999)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Produce(t, brokers, recs)
	run("after the input was recreated", int64(len(more)), slices.Concat(twice, more), nil)
}

func endOffsets(t *testing.T, adm *kadm.Client, topic string) map[int32]int64 {
	t.Helper()
	ends, err := adm.ListEndOffsets(t.Context(), topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

func committedOffsets(t *testing.T, adm *kadm.Client, group, topic string) map[int32]int64 {
	t.Helper()
	resp, err := adm.FetchOffsetsForTopics(t.Context(), group, topic)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	resp.Each(func(o kadm.OffsetResponse) {
		if o.At >= 0 {
			out[o.Partition] = o.At
		}
	})
	return out
}

func equalOffsets(a, b map[int32]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// recreate deletes topic and creates it again, empty, with partitions.
func recreate(t *testing.T, adm *kadm.Client, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := kafkaconn.DeleteTopic(ctx, adm, topic); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, time.Minute, "topic "+topic+" deleted", func() bool {
		_, err := kafkaconn.Partitions(ctx, adm, topic)
		return errors.Is(err, kafkaconn.ErrNoTopic)
	})
	testkit.Eventually(t, time.Minute, "topic "+topic+" created again", func() bool {
		return kafkaconn.CreateTopic(ctx, adm, topic, partitions, 1, nil) == nil
	})
}
