package processors_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/processors"
)

func TestFilterKeepsAndDrops(t *testing.T) {
	f := build(t, processors.NewFilter, "filter", `event_type != "heartbeat" && amount >= 100`, statelessEnv(t))
	for _, c := range []struct {
		name  string
		value map[string]any
		want  processors.Result
	}{
		{"purchase over 100 is kept", event("u1", "purchase", 150, "FR"), processors.Continue},
		{"heartbeat is dropped", event("u1", "heartbeat", 150, nil), processors.Drop},
		{"small amount is dropped", event("u1", "purchase", 99.5, nil), processors.Drop},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := processors.NewMessage("u1", c.value, processors.Meta{Topic: "user-topic"})
			if got := process(t, f, m); got != c.want {
				t.Errorf("got %s, want %s", resultName(got), resultName(c.want))
			}
			if len(m.Emits()) != 0 || m.StateChanged() {
				t.Errorf("a filter emitted %v or changed state", m.Emits())
			}
		})
	}
}

func TestFilterSeesKeyStateAndMeta(t *testing.T) {
	f := build(t, processors.NewFilter, "filter",
		`key == user_id && meta.topic == "user-topic" && meta.partition == 3 && (state == nil || state.events < 10)`,
		statefulEnv(t))
	m := processors.NewMessage("u1", event("u1", "view", 1, nil), processors.Meta{Topic: "user-topic", Partition: 3})
	if got := process(t, f, m); got != processors.Continue {
		t.Errorf("new key: got %s", resultName(got))
	}
	m = processors.NewMessage("u1", event("u1", "view", 1, nil), processors.Meta{Topic: "user-topic", Partition: 3})
	m.LoadState(map[string]any{"events": int64(10)}, false)
	if got := process(t, f, m); got != processors.Drop {
		t.Errorf("key with 10 events: got %s", resultName(got))
	}
}

// A value that breaks the expression at run time is an error (poison), not a drop.
func TestFilterRuntimeErrorIsPoison(t *testing.T) {
	f := build(t, processors.NewFilter, "filter", `amount >= 100`, statelessEnv(t))
	v := event("u1", "purchase", 0, nil)
	v["amount"] = "a lot"
	_, err := f.Process(context.Background(), processors.NewMessage("u1", v, processors.Meta{}))
	if err == nil {
		t.Fatal("comparing a string with 100 succeeded")
	}
	if !strings.HasPrefix(err.Error(), `evaluating "amount >= 100": `) {
		t.Errorf("error %q does not name the expression", err)
	}
	if errors.Is(err, processors.ErrTransient) {
		t.Errorf("a type error is transient: %v", err)
	}
}

func TestFilterConfigErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`amount * 2`, `step.yaml:1:1: expression "amount * 2": a condition must be true or false, but this gives a number`},
		{`contry == "FR"`, `step.yaml:1:1: expression "contry == \"FR\"": unknown name contry; did you mean "country"? known names: amount, country, event_type, key, meta, ts, user_id, value`},
		// Blanks inside the quotes are trimmed but still counted in the column.
		{`'  event_type > 5'`, `step.yaml:1:15: expression "event_type > 5": invalid operation: > (mismatched types string and int)`},
		{`'amount >= '`, `step.yaml:1:10: expression "amount >=": unexpected token EOF`},
		{`""`, `step.yaml:1:1: empty expression`},
		{`[a, b]`, `step.yaml:1:1: expected a string, got a list`},
	} {
		if got := configErrors(t, processors.NewFilter, "filter", c.src, statelessEnv(t)); got != c.want {
			t.Errorf("filter %s:\ngot  %s\nwant %s", c.src, got, c.want)
		}
	}
}
