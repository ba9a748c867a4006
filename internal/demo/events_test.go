package demo_test

import (
	"encoding/binary"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/internal/testkit"
)

func TestGenerateEvents(t *testing.T) {
	seed := testkit.Seed(t)
	const n, users = 3000, 40
	events := demo.GenerateEvents(seed, n, users, 0.1)
	if again := demo.GenerateEvents(seed, n, users, 0.1); !reflect.DeepEqual(events, again) {
		t.Fatal("the same seed generated different events")
	}
	if len(events) != n {
		t.Fatalf("%d events, want %d", len(events), n)
	}
	kinds, shapes, keys := map[string]int{}, map[string]int{}, map[string]bool{}
	for i, e := range events {
		kinds[e.Kind]++
		keys[e.Key] = true
		if e.Kind == demo.KindPoison {
			shapes[e.Poison]++
		}
		if i > 0 && e.TS <= events[i-1].TS {
			t.Errorf("event %d: ts %d not after %d", i, e.TS, events[i-1].TS)
		}
		if e.V1 && e.Country != nil {
			t.Errorf("event %d: a v1 event with a country", i)
		}
		if e.Kind == demo.KindNegative && e.Amount >= 0 || e.Kind == demo.KindValid && e.Amount < 0 {
			t.Errorf("event %d: %s with amount %v", i, e.Kind, e.Amount)
		}
	}
	for _, k := range []string{demo.KindValid, demo.KindHeartbeat, demo.KindNegative, demo.KindPoison} {
		if kinds[k] == 0 {
			t.Errorf("no %s event among %d: %v", k, n, kinds)
		}
	}
	if len(shapes) != 8 {
		t.Errorf("poison shapes %v, want all 8", shapes)
	}
	if len(keys) > users {
		t.Errorf("%d keys, want at most %d", len(keys), users)
	}
}

// frame is a stand-in encoder: a Confluent header with schema id, then the
// record as JSON.
func frame(id uint32) demo.Encoder {
	return func(v any) ([]byte, error) {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return append(binary.BigEndian.AppendUint32([]byte{0}, id), b...), nil
	}
}

func TestRecords(t *testing.T) {
	const unknownID = 1 << 20
	var events []demo.Event
	for _, shape := range []string{"null", "empty", "short", "magic", "unknown-id", "truncated", "corrupt", "header-only"} {
		events = append(events, demo.Event{Key: "p-" + shape, Kind: demo.KindPoison, Poison: shape, TS: 1})
	}
	events = append(events,
		demo.Event{Key: "old", Kind: demo.KindValid, EventType: "login", TS: 2, V1: true},
		demo.Event{Key: "new", Kind: demo.KindValid, EventType: "login", TS: 3})
	records, err := demo.Records("user-topic", events, frame(1), frame(2), unknownID)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := frame(2)(demo.Event{Key: "x", EventType: "login", TS: 1}.Fields())
	for i, r := range records {
		e := events[i]
		if r.Topic != "user-topic" || string(r.Key) != e.Key {
			t.Errorf("%s: record %s/%s", e.Key, r.Topic, r.Key)
		}
		v := r.Value
		var ok bool
		switch e.Poison {
		case "null":
			ok = v == nil
		case "empty":
			ok = v != nil && len(v) == 0
		case "short":
			ok = len(v) > 0 && len(v) < 5
		case "magic":
			ok = len(v) >= 5 && v[0] != 0
		case "unknown-id":
			ok = len(v) > 5 && v[0] == 0 && binary.BigEndian.Uint32(v[1:5]) == unknownID
		case "truncated":
			ok = len(v) > 5 && len(v) < len(good) && v[0] == 0
		case "corrupt":
			ok = len(v) > 5 && v[0] == 0 && binary.BigEndian.Uint32(v[1:5]) == 2
		case "header-only":
			ok = len(v) == 5 && v[0] == 0
		default:
			id := uint32(2)
			if e.V1 {
				id = 1
			}
			ok = len(v) > 5 && binary.BigEndian.Uint32(v[1:5]) == id && strings.Contains(string(v), `"user_id":"`+e.Key+`"`)
			if strings.Contains(string(v), "country") == e.V1 {
				ok = false
			}
		}
		if !ok {
			t.Errorf("%s: value %x", e.Key, v)
		}
	}
}
