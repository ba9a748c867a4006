package processors_test

import (
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/processors"
)

// TestScratchReuse: messages that reuse one Scratch, one after the other,
// see their own values and states (the environment is rebuilt in place), and
// the state a message starts from is left as it was.
func TestScratchReuse(t *testing.T) {
	filter := build(t, processors.NewFilter, "filter", `event_type != "heartbeat"`, statefulEnv(t))
	agg := build(t, processors.NewAggregate, "aggregate", aggregateSrc, statefulEnv(t, "stats"))
	var s processors.Scratch
	var state map[string]any
	for i, ev := range []map[string]any{
		event("u1", "purchase", 120, "FR"),
		event("u1", "heartbeat", 0, nil),
		event("u1", "view", 0, nil),
	} {
		m := processors.NewMessage("u1", ev, processors.Meta{})
		m.Reuse(&s)
		m.LoadState(state, false)
		if process(t, filter, m) == processors.Drop {
			if i != 1 {
				t.Fatalf("event %d dropped", i)
			}
			continue
		}
		before := state
		var kept map[string]any
		if before != nil {
			kept = make(map[string]any, len(before))
			for k, v := range before {
				kept[k] = v
			}
		}
		process(t, agg, m)
		if before != nil && !reflect.DeepEqual(before, kept) {
			t.Errorf("event %d changed the state it started from: %v", i, before)
		}
		state = m.State()
	}
	if want := userStats("u1", 2, 1, 120, "view", "FR"); !reflect.DeepEqual(state, want) {
		t.Errorf("state %#v\nwant %#v", state, want)
	}
}
