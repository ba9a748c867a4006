package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/sluicehq/sluice/internal/deadletter"
)

// testerConfig declares two JSON pipelines that use every built-in step type:
// "stats" keeps per-user totals in its table, "enriched" looks them up,
// builds a record and routes it by amount.
const testerConfig = `
version: 1
kafka: {brokers: tester}
pipelines:
  - name: stats
    input: {topic: events, codec: json}
    dead_letter: events-dlq
    state: {schema: SCHEMAS/user_stats.avsc}
    outputs:
      out: {topic: stats-out, codec: json}
    steps:
      - filter: event_type != "heartbeat"
      - validate:
          - check: amount >= 0
            message: amount must not be negative
      - aggregate:
          init: {user_id: key}
          set:
            events: state.events + 1
            purchases: 'state.purchases + (event_type == "purchase" ? 1 : 0)'
            total_spent: 'state.total_spent + (event_type == "purchase" ? amount : 0.0)'
            last_event_type: event_type
            last_country: country ?? state.last_country
            last_ts: ts
      - emit: out
  - name: enriched
    input: {topic: events, codec: json}
    dead_letter: events-dlq
    outputs:
      big: {topic: big, codec: json}
      small: {topic: small, codec: json}
    steps:
      - filter: event_type == "purchase"
      - lookup: {table: stats, key: user_id, as: s}
      - map:
          fields:
            user_id: user_id
            amount: amount
            purchases_before: 's == nil ? 0 : s.purchases'
      - route:
          - when: amount >= 100
            to: big
          - to: small
`

// runWithTester runs the pipelines of testerConfig in goka's tester, through
// the same runner and group graph production uses.
func runWithTester(t *testing.T) (*tester.Tester, *Supervisor) {
	t.Helper()
	return runConfigWithTester(t, testerConfig, Options{})
}

// runConfigWithTester runs the pipelines of config (SCHEMAS stands for the
// schemas folder) in goka's tester.
func runConfigWithTester(t *testing.T, config string, opts Options) (*tester.Tester, *Supervisor) {
	t.Helper()
	abs, err := filepath.Abs("../schemas")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pipelines.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(config, "SCHEMAS", abs)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	tt := tester.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, len(rt.runs))
	for _, run := range rt.runs {
		hasher, err := Hasher(cfg.Kafka.Partitioner, 1)
		if err != nil {
			t.Fatal(err)
		}
		// The handler writes through the tester's producer and notes what
		// the tester's consumer group hands goka, as in production.
		proc, err := goka.NewProcessor(nil, rt.groupGraph(run), goka.WithTester(tt), goka.WithHasher(hasher), goka.WithNilHandling(goka.NilProcess),
			goka.WithProducerBuilder(run.producerBuilder(tt.ProducerBuilder())),
			goka.WithConsumerGroupBuilder(run.consumerGroupBuilder(tt.ConsumerGroupBuilder())))
		if err != nil {
			t.Fatal(err)
		}
		run.proc = proc
		go func() { done <- proc.Run(ctx) }()
	}
	t.Cleanup(func() {
		cancel()
		for range rt.runs {
			if err := <-done; err != nil {
				t.Errorf("processor: %v", err)
			}
		}
	})
	return tt, rt
}

func event(t *testing.T, fields map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRunnerInGokaTester(t *testing.T) {
	tt, rt := runWithTester(t)
	statsOut, big, small, dlq := tt.NewQueueTracker("stats-out"), tt.NewQueueTracker("big"), tt.NewQueueTracker("small"), tt.NewQueueTracker("events-dlq")

	tt.Consume("events", "u1", event(t, map[string]any{"user_id": "u1", "event_type": "login", "amount": 0, "ts": 1000, "country": "KR"}))
	tt.Consume("events", "u1", event(t, map[string]any{"user_id": "u1", "event_type": "purchase", "amount": 150.5, "ts": 2000}))
	tt.Consume("events", "u1", event(t, map[string]any{"user_id": "u1", "event_type": "heartbeat", "amount": 0, "ts": 3000}))
	tt.Consume("events", "u1", event(t, map[string]any{"user_id": "u1", "event_type": "purchase", "amount": 20, "ts": 4000}))
	tt.Consume("events", "u2", event(t, map[string]any{"user_id": "u2", "event_type": "purchase", "amount": -5, "ts": 5000}))
	bad := []byte(`{"user_id": "u3", "event_type": `)
	tt.Consume("events", "u3", bad)

	// The table holds the aggregate with the source position of the last event.
	e, ok := tt.TableValue(goka.GroupTable("stats"), "u1").(*TableEntry)
	if !ok || e == nil {
		t.Fatalf("no table entry for u1")
	}
	st := e.State
	if st["events"] != int64(3) || st["purchases"] != int64(2) || st["total_spent"] != 170.5 || st["last_event_type"] != "purchase" || st["last_country"] != "KR" {
		t.Errorf("state of u1: %v", st)
	}
	if e.Offset != 3 {
		t.Errorf("table entry records offset %d, want 3 (the last applied event)", e.Offset)
	}

	// One stats output per applied event, the last one equal to the state.
	var last map[string]any
	n := 0
	for {
		_, v, ok := statsOut.Next()
		if !ok {
			break
		}
		n++
		if err := json.Unmarshal(v.([]byte), &last); err != nil {
			t.Fatal(err)
		}
	}
	if n != 3 || last["events"] != 3.0 || last["last_ts"] != 4000.0 {
		t.Errorf("%d stats outputs, last %v", n, last)
	}

	// enriched: route by amount, with the looked-up state before the event.
	if k, v, ok := big.Next(); !ok || k != "u1" || !strings.Contains(string(v.([]byte)), `"amount":150.5`) {
		t.Errorf("big: %v %s %v", k, v, ok)
	}
	if _, v, ok := small.Next(); !ok || !strings.Contains(string(v.([]byte)), `"amount":20`) {
		t.Errorf("small: %s %v", v, ok)
	}

	// Dead letters: the negative amount (stats only) and the bad JSON (both).
	stages := map[string]int{}
	for {
		h, key, v, ok := dlq.NextWithHeaders()
		if !ok {
			break
		}
		stages[string(h[deadletter.HeaderPipeline])+"/"+string(h[deadletter.HeaderStage])]++
		if key == "u3" && string(v.([]byte)) != string(bad) {
			t.Errorf("dead letter of u3 carries %q, want the original bytes", v)
		}
		if string(h[deadletter.HeaderKind]) != deadletter.KindPoison || string(h[deadletter.HeaderSourceTopic]) != "events" {
			t.Errorf("dead letter headers %v", h)
		}
	}
	want := map[string]int{"stats/validate": 1, "stats/decode": 1, "enriched/decode": 1}
	for k, v := range want {
		if stages[k] != v {
			t.Errorf("dead letters %v, want %v", stages, want)
			break
		}
	}

	// Counts add up per pipeline.
	for _, name := range []string{"stats", "enriched"} {
		c, _ := rt.Counts(name)
		if c.Consumed != 6 || c.Consumed != c.Processed+c.Filtered+c.DeadLettered {
			t.Errorf("%s counts %+v", name, c)
		}
	}
}

// TestRunnerSkipsAppliedMessages: a message at or before the position stored
// with the key's state (a redelivery after a crash) is not applied again; the
// stored state is written and emitted again instead.
func TestRunnerSkipsAppliedMessages(t *testing.T) {
	tt, _ := runWithTester(t)
	statsOut := tt.NewQueueTracker("stats-out")
	stored := &TableEntry{
		State:     map[string]any{"user_id": "u9", "events": int64(41), "purchases": int64(0), "total_spent": 0.0, "last_event_type": "login", "last_country": nil, "last_ts": int64(7)},
		Partition: 0,
		Offset:    100,
	}
	tt.SetTableValue(goka.GroupTable("stats"), "u9", stored)
	tt.Consume("events", "u9", event(t, map[string]any{"user_id": "u9", "event_type": "purchase", "amount": 10, "ts": 9000}))

	e := tt.TableValue(goka.GroupTable("stats"), "u9").(*TableEntry)
	if e.State["events"] != int64(41) || e.Offset != 100 {
		t.Errorf("a redelivered message was applied again: %+v", e)
	}
	_, v, ok := statsOut.Next()
	if !ok || !strings.Contains(string(v.([]byte)), `"events":41`) {
		t.Errorf("the stored state was not emitted again: %s %v", v, ok)
	}
}

// TestRunnerDeadLetterKeepsState: a message a step rejects is dead-lettered
// with its original bytes and the step's error text, and leaves the key's
// state and outputs as they were; another key's state is its own.
func TestRunnerDeadLetterKeepsState(t *testing.T) {
	tt, _ := runWithTester(t)
	statsOut, dlq := tt.NewQueueTracker("stats-out"), tt.NewQueueTracker("events-dlq")

	tt.Consume("events", "u1", event(t, map[string]any{"user_id": "u1", "event_type": "purchase", "amount": 10, "ts": 1000, "country": "FR"}))
	negative := event(t, map[string]any{"user_id": "u1", "event_type": "purchase", "amount": -5, "ts": 2000, "country": "DE"})
	tt.Consume("events", "u1", negative)
	tt.Consume("events", "u2", event(t, map[string]any{"user_id": "u2", "event_type": "view", "amount": 3, "ts": 3000}))

	h, key, v, ok := dlq.NextWithHeaders()
	if !ok || key != "u1" || string(v.([]byte)) != string(negative) {
		t.Fatalf("dead letter %q = %s (%v), want u1's original bytes", key, v, ok)
	}
	for k, want := range map[string]string{
		deadletter.HeaderPipeline: "stats", deadletter.HeaderStage: "validate", deadletter.HeaderKind: deadletter.KindPoison,
		deadletter.HeaderMessage: "invalid: amount must not be negative", deadletter.HeaderAttempts: "1", deadletter.HeaderSourceOffset: "1",
	} {
		if string(h[k]) != want {
			t.Errorf("dead letter header %s = %q, want %q", k, h[k], want)
		}
	}
	if _, _, _, ok := dlq.NextWithHeaders(); ok {
		t.Error("more than one dead letter")
	}

	for _, want := range []struct {
		key       string
		purchases int64
		eventType string
		country   any
	}{{"u1", 1, "purchase", "FR"}, {"u2", 0, "view", nil}} {
		e, ok := tt.TableValue(goka.GroupTable("stats"), want.key).(*TableEntry)
		if !ok || e == nil {
			t.Fatalf("no table entry for %s", want.key)
		}
		st := e.State
		if st["user_id"] != want.key || st["events"] != int64(1) || st["purchases"] != want.purchases ||
			st["last_event_type"] != want.eventType || st["last_country"] != want.country {
			t.Errorf("state of %s: %v", want.key, st)
		}
		k, v, ok := statsOut.Next()
		var out map[string]any
		if ok {
			ok = json.Unmarshal(v.([]byte), &out) == nil
		}
		if !ok || k != want.key || out["events"] != 1.0 || out["last_event_type"] != want.eventType {
			t.Errorf("stats output %s = %s, want %s's state after its one applied event", k, v, want.key)
		}
	}
	if k, v, ok := statsOut.Next(); ok {
		t.Errorf("extra stats output %s = %s: the dead-lettered message was emitted", k, v)
	}
}
