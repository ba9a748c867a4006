package processors_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/processors"
)

// aggregateSrc is the aggregate step of the reference user-stats pipeline.
const aggregateSrc = `
init:
  user_id: key
set:
  user_id: key
  events: state.events + 1
  purchases: 'state.purchases + (event_type == "purchase" ? 1 : 0)'
  total_spent: 'state.total_spent + (event_type == "purchase" ? amount : 0.0)'
  last_event_type: event_type
  last_country: country ?? state.last_country
  last_ts: ts
`

func userStats(user string, events, purchases int64, spent float64, last string, country any) map[string]any {
	return map[string]any{
		"user_id":         user,
		"events":          events,
		"purchases":       purchases,
		"total_spent":     spent,
		"last_event_type": last,
		"last_country":    country,
		"last_ts":         ts0,
	}
}

func TestAggregateNewKeyAndUpdate(t *testing.T) {
	agg := build(t, processors.NewAggregate, "aggregate", aggregateSrc, statefulEnv(t, "stats"))

	m := processors.NewMessage("u1", event("u1", "purchase", 120, "FR"), processors.Meta{})
	if got := process(t, agg, m); got != processors.Continue {
		t.Fatalf("got %s", resultName(got))
	}
	want := userStats("u1", 1, 1, 120, "purchase", "FR")
	if !m.StateChanged() || !reflect.DeepEqual(m.State(), want) {
		t.Fatalf("changed %v, state %#v\nwant %#v", m.StateChanged(), m.State(), want)
	}
	if !reflect.DeepEqual(m.Value(), want) {
		t.Errorf("the new state is not the value: %#v", m.Value())
	}

	// The next event of the key starts from the stored state; a null
	// country keeps the last known one (country ?? state.last_country).
	stored := m.State()
	m = processors.NewMessage("u1", event("u1", "view", 0, nil), processors.Meta{})
	m.LoadState(stored, false)
	process(t, agg, m)
	want = userStats("u1", 2, 1, 120, "view", "FR")
	if !reflect.DeepEqual(m.State(), want) {
		t.Errorf("state %#v\nwant %#v", m.State(), want)
	}
	if stored["events"] != int64(1) {
		t.Errorf("the previous state map was modified: %#v", stored)
	}
}

// A new key whose first event has no country gets the schema default (null).
func TestAggregateInitDefaults(t *testing.T) {
	agg := build(t, processors.NewAggregate, "aggregate", aggregateSrc, statefulEnv(t))
	m := processors.NewMessage("u2", event("u2", "view", 3, nil), processors.Meta{})
	process(t, agg, m)
	if want := userStats("u2", 1, 0, 0, "view", nil); !reflect.DeepEqual(m.State(), want) {
		t.Errorf("state %#v\nwant %#v", m.State(), want)
	}
}

// A redelivered message whose effect the table already holds must not be
// applied again: the stored state is published as it is.
func TestAggregateReplayDoesNotApplyTwice(t *testing.T) {
	agg := build(t, processors.NewAggregate, "aggregate", aggregateSrc, statefulEnv(t))
	first := processors.NewMessage("u1", event("u1", "purchase", 50, "DE"), processors.Meta{Offset: 7})
	process(t, agg, first)
	stored := first.State()

	again := processors.NewMessage("u1", event("u1", "purchase", 50, "DE"), processors.Meta{Offset: 7})
	again.LoadState(stored, true)
	if got := process(t, agg, again); got != processors.Continue {
		t.Fatalf("got %s", resultName(got))
	}
	if again.StateChanged() {
		t.Error("a replay changed the state")
	}
	want := userStats("u1", 1, 1, 50, "purchase", "DE")
	if !reflect.DeepEqual(again.State(), want) || !reflect.DeepEqual(again.Value(), want) {
		t.Errorf("state %#v\nvalue %#v\nwant  %#v", again.State(), again.Value(), want)
	}
}

// A stored state read back with plain ints (as a JSON table decodes them)
// comes out in the schema's canonical types.
func TestAggregateCoercesState(t *testing.T) {
	agg := build(t, processors.NewAggregate, "aggregate", aggregateSrc, statefulEnv(t))
	m := processors.NewMessage("u1", event("u1", "purchase", 2.5, nil), processors.Meta{})
	m.LoadState(map[string]any{
		"user_id": "u1", "events": 4, "purchases": 2, "total_spent": 10,
		"last_event_type": "view", "last_country": "IT", "last_ts": ts0.UnixMilli(),
	}, false)
	process(t, agg, m)
	want := userStats("u1", 5, 3, 12.5, "purchase", "IT")
	if !reflect.DeepEqual(m.State(), want) {
		t.Errorf("state %#v\nwant %#v", m.State(), want)
	}
	for field, typ := range map[string]reflect.Type{
		"events": reflect.TypeOf(int64(0)), "purchases": reflect.TypeOf(int64(0)), "total_spent": reflect.TypeOf(0.0),
	} {
		if got := reflect.TypeOf(m.State()[field]); got != typ {
			t.Errorf("%s is %v, want %v", field, got, typ)
		}
	}
}

func TestAggregateErrorKeepsState(t *testing.T) {
	agg := build(t, processors.NewAggregate, "aggregate", aggregateSrc, statefulEnv(t))
	v := event("u1", "purchase", 0, nil)
	v["amount"] = "ten" // state.total_spent + "ten" fails at run time
	m := processors.NewMessage("u1", v, processors.Meta{})
	stored := userStats("u1", 1, 1, 5, "purchase", nil)
	m.LoadState(stored, false)
	res, err := agg.Process(context.Background(), m)
	if err == nil || res != processors.Drop {
		t.Fatalf("got %s, %v; want Drop and an error", resultName(res), err)
	}
	if m.StateChanged() || !reflect.DeepEqual(m.State(), userStats("u1", 1, 1, 5, "purchase", nil)) {
		t.Errorf("a failed aggregate changed the state: %#v", m.State())
	}
}

// Steps after an aggregate see the new state as the value.
func TestAggregateUpdatesEnv(t *testing.T) {
	env := statefulEnv(t, "stats")
	build(t, processors.NewAggregate, "aggregate", aggregateSrc, env)
	build(t, processors.NewFilter, "filter", `events > 1 && total_spent >= 100.0`, env)
	if got := configErrors(t, processors.NewFilter, "filter", `amount > 1`, env); got !=
		`step.yaml:1:1: expression "amount > 1": unknown name amount; known names: events, key, last_country, last_event_type, last_ts, meta, purchases, state, total_spent, user_id, value` {
		t.Errorf("got %s", got)
	}
}

func TestAggregateConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name, src string
		env       *processors.Env
		want      string
	}{
		{"no state schema", "set:\n  events: state.events + 1\n", statelessEnv(t),
			`step.yaml:1:1: aggregate needs the pipeline's state schema (state: {schema: FILE})`},
		{"no set", "init:\n  user_id: key\n", statefulEnv(t),
			`step.yaml:1:1: missing required field "set"`},
		{"unknown and mistyped fields", "set:\n  total: 1\n  purchases: event_type\n  events: state.evnts + 1\n", statefulEnv(t),
			"step.yaml:2:3: unknown field \"total\" (fields of com.example.events.UserStats: user_id, events, purchases, total_spent, last_event_type, last_country, last_ts)\n" +
				"step.yaml:3:3: field \"purchases\" is integer but the expression \"event_type\" gives string\n" +
				"step.yaml:4:17: expression \"state.evnts + 1\": the record has no field evnts; did you mean \"events\"? fields: user_id, events, purchases, total_spent, last_event_type, last_country, last_ts"},
		{"unknown key", "set: {events: 1}\nreset: true\n", statefulEnv(t),
			`step.yaml:2:1: unknown field "reset"; did you mean "set"? known fields: init, set`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := configErrors(t, processors.NewAggregate, "aggregate", c.src, c.env); got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}
