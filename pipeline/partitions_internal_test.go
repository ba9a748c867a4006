package pipeline

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lovoo/goka"

	"github.com/sluicehq/sluice/internal/deadletter"
)

// cacheConfig keeps one entry per partition in the cache, and rejects a
// message after aggregate has computed its new state.
const cacheConfig = `
version: 1
kafka: {brokers: tester}
pipelines:
  - name: stats
    input: {topic: events, codec: json}
    dead_letter: events-dlq
    state: {schema: SCHEMAS/user_stats.avsc, cache: 1}
    outputs:
      out: {topic: stats-out, codec: json}
    steps:
      - aggregate:
          init: {user_id: key}
          set:
            events: state.events + 1
            last_event_type: event_type
      - validate:
          - check: last_event_type != "bad"
            message: bad event
      - emit: out
`

// TestStateCacheExact: with a cache smaller than the keys and a message
// rejected after aggregate computed its state, every key's state is what
// its applied messages make: the cache never holds a state the table was
// not given.
func TestStateCacheExact(t *testing.T) {
	tt, rt := runConfigWithTester(t, cacheConfig, Options{})
	dlq := tt.NewQueueTracker("events-dlq")
	for round := range 3 {
		for _, key := range []string{"u1", "u2", "u3"} {
			typ := "view"
			if key == "u2" && round == 1 {
				typ = "bad"
			}
			tt.Consume("events", key, []byte(fmt.Sprintf(`{"user_id": %q, "event_type": %q, "amount": 1, "ts": 1000}`, key, typ)))
		}
	}
	if _, key, _, ok := dlq.NextWithHeaders(); !ok || key != "u2" {
		t.Fatalf("dead letter %q %v, want u2's bad event", key, ok)
	}
	for key, events := range map[string]int64{"u1": 3, "u2": 2, "u3": 3} {
		e, ok := tt.TableValue(goka.GroupTable("stats"), key).(*TableEntry)
		if !ok || e.State["events"] != events || e.State["last_event_type"] != "view" {
			t.Errorf("state of %s: %+v, want %d events, the last a view", key, e, events)
		}
	}
	parts := rt.runs[0].parts
	parts.mu.Lock()
	defer parts.mu.Unlock()
	for p, ps := range parts.parts {
		if len(ps.cache.entries) > 1 {
			t.Errorf("partition %d caches %d entries, bound 1", p, len(ps.cache.entries))
		}
	}
}

func TestPartitionsBoundAndReset(t *testing.T) {
	s := newPartitions(2)
	c := s.partition(3).cache
	for i := range 5 {
		c.put(fmt.Sprint("k", i), &TableEntry{Offset: int64(i)})
		if len(c.entries) > 2 {
			t.Fatalf("%d entries after %d puts, bound 2", len(c.entries), i+1)
		}
	}
	if e := c.get("k4"); e == nil || e.Offset != 4 {
		t.Errorf("the last entry put is not cached: %+v", e)
	}
	c.put("k4", &TableEntry{Offset: 40})
	if e := c.get("k4"); e.Offset != 40 {
		t.Errorf("a rewritten key keeps %+v", e)
	}
	s.reset()
	if c := s.partition(3).cache; c.get("k4") != nil {
		t.Error("a new session still has the entries of the previous one")
	}
	if newPartitions(0).partition(1).cache != nil {
		t.Error("cache 0 still caches")
	}
}

// oversizeStateConfig keeps the last country of each key in its table, and
// writes nothing else.
const oversizeStateConfig = `
version: 1
kafka: {brokers: tester}
pipelines:
  - name: stats
    input: {topic: events, codec: json}
    dead_letter: events-dlq
    state: {schema: SCHEMAS/user_stats.avsc}
    steps:
      - aggregate:
          init: {user_id: key}
          set:
            events: state.events + 1
            last_country: country
`

// TestOversizeTableEntry: a table entry that would not fit its topic makes
// an oversize dead letter at stage state (itself too large for its value,
// which is as large as the entry), and leaves the key's state (and its
// cached entry) as it was.
func TestOversizeTableEntry(t *testing.T) {
	tt, rt := runConfigWithTester(t, oversizeStateConfig, Options{})
	rt.runs[0].limit = newSizeLimit(map[string]int{"events-dlq": 2048}) // records of at most 1536 bytes
	dlq := tt.NewQueueTracker("events-dlq")
	ev := func(country string) []byte {
		return []byte(fmt.Sprintf(`{"user_id": "u1", "event_type": "view", "amount": 1, "ts": 1000, "country": %q}`, country))
	}
	big := ev(strings.Repeat("x", 1600))
	tt.Consume("events", "u1", ev("KR"))
	tt.Consume("events", "u1", big)
	tt.Consume("events", "u1", ev("FR"))

	h, key, _, ok := dlq.NextWithHeaders()
	if !ok || key != "u1" || string(h[deadletter.HeaderSourceOffset]) != "1" {
		t.Fatalf("dead letter %q %v %v, want the big event's", key, ok, h)
	}
	if msg := string(h[deadletter.HeaderMessage]); !strings.Contains(msg, fmt.Sprintf("value of %d bytes left out", len(big))) || !strings.Contains(msg, `table entry of key "u1"`) {
		t.Errorf("dead letter message %q", msg)
	}
	if string(h[deadletter.HeaderStage]) != deadletter.StageState || string(h[deadletter.HeaderKind]) != deadletter.KindOversize {
		t.Errorf("dead letter stage %s kind %s, want state/oversize (%s)", h[deadletter.HeaderStage], h[deadletter.HeaderKind], h[deadletter.HeaderMessage])
	}
	if _, _, _, ok := dlq.NextWithHeaders(); ok {
		t.Error("more than one dead letter")
	}
	e, ok := tt.TableValue(goka.GroupTable("stats"), "u1").(*TableEntry)
	if !ok || e.State["events"] != int64(2) || e.State["last_country"] != "FR" || e.Offset != 2 {
		t.Errorf("entry of u1 %+v, want 2 events, the last from FR at offset 2", e)
	}
}
