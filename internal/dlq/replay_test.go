package dlq_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/dlq"
	"github.com/sluicehq/sluice/internal/testkit"
)

func letters(topic string, n int) []*kgo.Record {
	var out []*kgo.Record
	for i := range n {
		out = append(out, &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(i)), Value: []byte(fmt.Sprintf(`{"i":%d}`, i)),
			Headers: []kgo.RecordHeader{
				{Key: deadletter.HeaderStage, Value: []byte("validate")},
				{Key: deadletter.HeaderSourceTopic, Value: []byte("nowhere")},
			}})
	}
	return out
}

// Replaying a topic into itself must stop at the end offsets seen at start
// rather than chase its own output; the second pass ends at the
// transaction markers the first one left at the end of the log.
func TestReplayDoesNotChaseItsOwnOutput(t *testing.T) {
	env := testkit.Env(t)
	brokers := env.Brokers()
	topic := testkit.Unique("self")
	testkit.CreateTopic(t, brokers, topic, 2, nil)
	testkit.Produce(t, brokers, letters(topic, 30))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	opts := []dlq.Option{dlq.WithClientOpts(testkit.KafkaOpts(t, brokers)...), dlq.WithTarget(topic)}

	for pass, wantCount := range []int{1, 2} {
		var last dlq.Progress
		st, err := dlq.Replay(ctx, topic, append(opts, dlq.WithProgress(func(p dlq.Progress) { last = p }))...)
		if err != nil {
			t.Fatalf("pass %d: %v", pass, err)
		}
		if st.Replayed != 30 || st.Topics[topic] != 30 || last.Replayed != 30 || last.Done != last.Total {
			t.Fatalf("pass %d: stats %+v, progress %+v", pass, st, last)
		}
		// Each pass replays the previous pass's output, once. A real broker
		// moves the last stable offset past a committed transaction a moment
		// after the commit returns, so read until the replayed records show.
		testkit.EventuallyValue(t, 30*time.Second, fmt.Sprintf("pass %d: 30 dead letters with replay count %d (counts of dead letters per replay count)", pass, wantCount),
			func() (map[int]int, bool) {
				counts := map[int]int{}
				_, err := dlq.Inspect(ctx, topic, func(e *dlq.Entry) error {
					counts[e.ReplayCount]++
					return nil
				}, dlq.WithClientOpts(testkit.KafkaOpts(t, brokers)...))
				if err != nil {
					t.Fatalf("pass %d: inspecting %s: %v", pass, topic, err)
				}
				return counts, counts[wantCount] == 30
			})
	}
}

func TestReplayNeedsATarget(t *testing.T) {
	env := testkit.Env(t)
	brokers := env.Brokers()
	topic := testkit.Unique("nosource")
	testkit.CreateTopic(t, brokers, topic, 1, nil)
	testkit.Produce(t, brokers, []*kgo.Record{{Topic: topic, Value: []byte("x")}})
	_, err := dlq.Replay(t.Context(), topic, dlq.WithClientOpts(testkit.KafkaOpts(t, brokers)...))
	if !errors.Is(err, dlq.ErrNoSourceTopic) {
		t.Fatalf("Replay of a letter without a source topic = %v, want ErrNoSourceTopic", err)
	}
	_, err = dlq.Replay(t.Context(), testkit.Unique("missing"), dlq.WithClientOpts(testkit.KafkaOpts(t, brokers)...))
	if !errors.Is(err, dlq.ErrNoTopic) {
		t.Fatalf("Replay of a missing topic = %v, want ErrNoTopic", err)
	}
}

func TestInspectFollow(t *testing.T) {
	env := testkit.Env(t)
	brokers := env.Brokers()
	topic := testkit.Unique("follow")
	testkit.CreateTopic(t, brokers, topic, 1, nil)
	testkit.Produce(t, brokers, letters(topic, 3)) // before: not reported

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	type result struct {
		keys []string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var keys []string
		_, err := dlq.Inspect(ctx, topic, func(e *dlq.Entry) error {
			keys = append(keys, string(e.Record.Key))
			return nil
		}, dlq.WithClientOpts(testkit.KafkaOpts(t, brokers)...), dlq.Follow(), dlq.WithMax(1))
		done <- result{keys, err}
	}()
	// Follow resolves "the end" when it starts: produce a record every
	// 200 ms until it reports one; ctx (2 min) bounds the wait, ending Inspect.
	for {
		testkit.Produce(t, brokers, []*kgo.Record{{Topic: topic, Key: []byte("new")}})
		select {
		case r := <-done:
			if r.err != nil || len(r.keys) != 1 || r.keys[0] != "new" {
				t.Fatalf("waiting for Inspect with Follow to report one record produced after it started: got %v, %v", r.keys, r.err)
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}
