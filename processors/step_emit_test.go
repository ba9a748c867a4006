package processors_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/processors"
)

func TestEmitUsesMessageKey(t *testing.T) {
	e := build(t, processors.NewEmit, "emit", `stats`, statelessEnv(t, "stats"))
	v := event("u1", "purchase", 10, nil)
	m := processors.NewMessage("u1", v, processors.Meta{})
	if got := process(t, e, m); got != processors.Continue {
		t.Errorf("got %s", resultName(got))
	}
	// Emitting twice queues two records, in order.
	process(t, e, m)
	want := []processors.Emit{{Output: "stats", Key: "u1", Value: v}, {Output: "stats", Key: "u1", Value: v}}
	if !reflect.DeepEqual(m.Emits(), want) {
		t.Errorf("emits %+v, want %+v", m.Emits(), want)
	}
}

func TestEmitKeyExpression(t *testing.T) {
	for _, c := range []struct {
		key, want string
	}{
		{"country", "FR"},
		{`user_id + "/" + event_type`, "u1/purchase"},
		{"amount", "120.5"}, // a non-string key is printed
	} {
		e := build(t, processors.NewEmit, "emit", "{to: big, key: '"+c.key+"'}", statelessEnv(t, "big"))
		m := processors.NewMessage("u1", event("u1", "purchase", 120.5, "FR"), processors.Meta{})
		process(t, e, m)
		if len(m.Emits()) != 1 || m.Emits()[0].Key != c.want || m.Emits()[0].Output != "big" {
			t.Errorf("key %s: emits %+v, want key %q", c.key, m.Emits(), c.want)
		}
	}
}

func TestEmitNullKeyFails(t *testing.T) {
	e := build(t, processors.NewEmit, "emit", "{to: big, key: country}", statelessEnv(t, "big"))
	m := processors.NewMessage("u1", event("u1", "purchase", 1, nil), processors.Meta{})
	_, err := e.Process(context.Background(), m)
	if err == nil || err.Error() != `evaluating "country": got null, want a string` {
		t.Errorf("error %v", err)
	}
	if len(m.Emits()) != 0 {
		t.Errorf("emitted %+v with a null key", m.Emits())
	}
}

func TestEmitConfigErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`stat`, `step.yaml:1:1: unknown output "stat" (outputs of this pipeline: big, stats)`},
		{`{key: user_id}`, `step.yaml:1:1: missing required field "to"`},
		{`{to: big, kye: user_id}`, `step.yaml:1:11: unknown field "kye"; did you mean "key"? known fields: key, to`},
		{`{to: big, key: usr_id}`, `step.yaml:1:16: expression "usr_id": unknown name usr_id; did you mean "user_id"? known names: amount, country, event_type, key, meta, ts, user_id, value`},
	} {
		if got := configErrors(t, processors.NewEmit, "emit", c.src, statelessEnv(t, "big", "stats")); got != c.want {
			t.Errorf("emit %s:\ngot  %s\nwant %s", c.src, got, c.want)
		}
	}
}
