package processors_test

import (
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/processors"
)

func TestMapWithoutSchema(t *testing.T) {
	env := statelessEnv(t)
	step := build(t, processors.NewMap, "map", `
fields:
  user_id: user_id
  amount: amount
  big: amount >= 100
  country: country ?? "unknown"
`, env)
	m := processors.NewMessage("u1", event("u1", "purchase", 150, nil), processors.Meta{})
	if got := process(t, step, m); got != processors.Continue {
		t.Fatalf("got %s", resultName(got))
	}
	want := map[string]any{"user_id": "u1", "amount": 150.0, "big": true, "country": "unknown"}
	if !reflect.DeepEqual(m.Value(), want) {
		t.Errorf("value %#v, want %#v", m.Value(), want)
	}
	// Later expressions see the new record.
	f := build(t, processors.NewFilter, "filter", `big && country != "FR"`, env)
	if got := process(t, f, m); got != processors.Continue {
		t.Errorf("filter over the mapped value: %s", resultName(got))
	}
	if got := configErrors(t, processors.NewFilter, "filter", `event_type == "purchase"`, env); got !=
		`step.yaml:1:1: expression "event_type == \"purchase\"": unknown name event_type; known names: amount, big, country, key, meta, user_id, value` {
		t.Errorf("a field the map dropped is still visible: %s", got)
	}
}

func TestMapWithSchemaCoerces(t *testing.T) {
	env := statelessEnv(t)
	step := build(t, processors.NewMap, "map", `
schema: schemas/user_stats.avsc
fields:
  user_id: user_id
  events: 1
  purchases: 'event_type == "purchase" ? 1 : 0'
  total_spent: 7
  last_event_type: event_type
  last_ts: 1700000000000
`, env)
	m := processors.NewMessage("u1", event("u1", "purchase", 150, "FR"), processors.Meta{})
	process(t, step, m)
	// Integers become long or double, a number of milliseconds a timestamp,
	// and the field the map leaves out takes its default (null).
	want := map[string]any{
		"user_id":         "u1",
		"events":          int64(1),
		"purchases":       int64(1),
		"total_spent":     7.0,
		"last_event_type": "purchase",
		"last_country":    nil,
		"last_ts":         ts0,
	}
	if !reflect.DeepEqual(m.Value(), want) {
		t.Errorf("value %#v\nwant %#v", m.Value(), want)
	}
	if env.Value.Schema == nil || len(env.Value.Fields) != 7 {
		t.Errorf("the env after the map is not UserStats: %+v", env.Value)
	}
}

func TestMapConfigErrors(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"no fields", `{schema: schemas/user_stats.avsc}`, `step.yaml:1:1: missing required field "fields"`},
		{"missing schema file", "schema: schemas/nope.avsc\nfields: {a: amount}\n",
			`step.yaml:1:9: reading schema: stat ../schemas/nope.avsc: no such file or directory`},
		{"schema field not set", "schema: schemas/user_stats.avsc\nfields:\n  user_id: user_id\n  events: 1\n",
			`step.yaml:3:3: fields without a default are not set: last_event_type, last_ts, purchases, total_spent`},
		{"wrong type and unknown field", `
schema: schemas/user_stats.avsc
fields:
  user_id: user_id
  events: event_type
  purchases: 0
  total_spent: amount
  last_event_type: event_type
  last_ts: ts
  extra: 1
`, "step.yaml:5:3: field \"events\" is integer but the expression \"event_type\" gives string\n" +
			"step.yaml:10:3: unknown field \"extra\" (fields of com.example.events.UserStats: user_id, events, purchases, total_spent, last_event_type, last_country, last_ts)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := configErrors(t, processors.NewMap, "map", c.src, statelessEnv(t)); got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}
