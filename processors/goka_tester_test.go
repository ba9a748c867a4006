package processors_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/processors"
)

// stepsCallback runs steps inside a goka callback the way the runtime does,
// in small: the decoded input value becomes a Message with the key's table
// state, a failing step dead-letters the message with its error text, and a
// message that got through writes its new state and its emits.
func stepsCallback(steps []processors.Step, outputs map[string]goka.Stream, deadLetter goka.Stream) goka.ProcessCallback {
	return func(ctx goka.Context, value any) {
		m := processors.NewMessage(ctx.Key(), value, processors.Meta{
			Topic: string(ctx.Topic()), Partition: ctx.Partition(), Offset: ctx.Offset(), Timestamp: ctx.Timestamp(),
		})
		if st, ok := ctx.Value().(map[string]any); ok {
			m.State = st
		}
		for _, s := range steps {
			res, err := s.Process(ctx.Context(), m)
			if err != nil {
				ctx.Emit(deadLetter, ctx.Key(), err.Error())
				return
			}
			if res == processors.Drop {
				break
			}
		}
		if m.StateChanged {
			ctx.SetValue(m.State)
		}
		for _, e := range m.Emits {
			ctx.Emit(outputs[e.Output], e.Key, e.Value)
		}
	}
}

// TestStepsInGokaTester runs the user-stats steps, built by the production
// constructors from the reference YAML, in a goka group fed by goka's tester.
// The edges use codecs.JSON, so the steps also meet JSON-decoded values
// (timestamps as milliseconds, whole numbers as int64) and coerce them.
func TestStepsInGokaTester(t *testing.T) {
	env := statefulEnv(t, "stats")
	steps := []processors.Step{
		build(t, processors.NewFilter, "filter", `event_type != "heartbeat"`, env),
		build(t, processors.NewValidate, "validate", "- check: amount >= 0\n  message: amount must not be negative\n", env),
		build(t, processors.NewAggregate, "aggregate", aggregateSrc, env),
		build(t, processors.NewEmit, "emit", `stats`, env),
	}
	const (
		input      goka.Stream = "user-topic"
		output     goka.Stream = "user-stats"
		deadLetter goka.Stream = "user-topic-dlq"
		group      goka.Group  = "user-stats"
	)
	gkt := tester.New(t)
	proc, err := goka.NewProcessor(nil, goka.DefineGroup(group,
		goka.Input(input, new(codecs.JSON), stepsCallback(steps, map[string]goka.Stream{"stats": output}, deadLetter)),
		goka.Output(output, new(codecs.JSON)),
		goka.Output(deadLetter, new(codecs.String)),
		goka.Persist(new(codecs.JSON)),
	), goka.WithTester(gkt))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- proc.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("processor: %v", err)
		}
	}()

	outputs := gkt.NewQueueTracker(string(output))
	deadLetters := gkt.NewQueueTracker(string(deadLetter))
	ms := ts0.UnixMilli()
	in := func(user, eventType string, amount any, country any) map[string]any {
		return map[string]any{"user_id": user, "event_type": eventType, "amount": amount, "ts": ms, "country": country}
	}
	gkt.Consume(string(input), "u1", in("u1", "purchase", 120.5, "FR"))
	gkt.Consume(string(input), "u1", in("u1", "heartbeat", 0, nil))  // filtered
	gkt.Consume(string(input), "u1", in("u1", "view", 3, nil))       // keeps FR
	gkt.Consume(string(input), "u1", in("u1", "purchase", -5, "DE")) // dead-lettered
	gkt.Consume(string(input), "u2", in("u2", "purchase", 10, "IT"))

	_, statsSchema := types(t)
	canonical := func(v any) any {
		t.Helper()
		c, err := codecs.Coerce(statsSchema.Schema, v)
		if err != nil {
			t.Fatalf("coercing %#v to UserStats: %v", v, err)
		}
		return c
	}

	u1 := userStats("u1", 2, 1, 120.5, "view", "FR")
	u2 := userStats("u2", 1, 1, 10, "purchase", "IT")
	for _, table := range []struct {
		key  string
		want map[string]any
	}{{"u1", u1}, {"u2", u2}} {
		got := gkt.TableValue(goka.GroupTable(group), table.key)
		if got == nil || !reflect.DeepEqual(canonical(got), table.want) {
			t.Errorf("table[%s] = %#v\nwant %#v", table.key, got, table.want)
		}
	}

	wantOut := []struct {
		key   string
		value map[string]any
	}{{"u1", userStats("u1", 1, 1, 120.5, "purchase", "FR")}, {"u1", u1}, {"u2", u2}}
	for i, w := range wantOut {
		key, value, ok := outputs.Next()
		if !ok {
			t.Fatalf("output %d missing", i)
		}
		if key != w.key || !reflect.DeepEqual(canonical(value), w.value) {
			t.Errorf("output %d: %s = %#v\nwant %s = %#v", i, key, value, w.key, w.value)
		}
	}
	if key, value, ok := outputs.Next(); ok {
		t.Errorf("extra output %s = %#v", key, value)
	}

	key, value, ok := deadLetters.Next()
	if !ok || key != "u1" || value != "invalid: amount must not be negative" {
		t.Errorf("dead letter %q = %#v (%v)", key, value, ok)
	}
	if key, value, ok := deadLetters.Next(); ok {
		t.Errorf("extra dead letter %s = %#v", key, value)
	}
}
