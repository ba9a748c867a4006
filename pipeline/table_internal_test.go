package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
)

func userStatsCodec(t testing.TB) *tableCodec {
	t.Helper()
	s, err := codecs.NewSchemas().ParseFile("../schemas/user_stats.avsc")
	if err != nil {
		t.Fatal(err)
	}
	c, err := newTableCodec(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sampleState() map[string]any {
	return map[string]any{"user_id": "u1", "events": int64(3), "purchases": int64(1), "total_spent": 12.5,
		"last_event_type": "purchase", "last_country": "KR", "last_ts": time.UnixMilli(1_700_000_000_123).UTC()}
}

// TestTableEntryRoundTrip: an entry comes back with canonical values, and its
// bytes are the wire format of the documented entry schema.
func TestTableEntryRoundTrip(t *testing.T) {
	c := userStatsCodec(t)
	in := &TableEntry{State: sampleState(), Partition: 4, Offset: 123456}
	b, err := c.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := codecs.FrameSchemaID(b); !ok || id >= 0 || int32(id) != c.id.Load() {
		t.Fatalf("schema id %d (%v), want the local id %d (negative)", id, ok, c.id.Load())
	}
	v, err := c.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.(*TableEntry); !reflect.DeepEqual(got, in) {
		t.Fatalf("decoded %#v, want %#v", got, in)
	}

	var rec map[string]any
	if err := avro.Unmarshal(c.entry, b[entryHeaderSize:], &rec); err != nil {
		t.Fatalf("the entry is not Avro of the entry schema: %v", err)
	}
	if rec["partition"] != 4 || rec["offset"] != int64(123456) || rec["history"] != nil || len(rec["windows"].([]any)) != 0 {
		t.Errorf("entry record %v", rec)
	}
	if st := rec["state"].(map[string]any); st["user_id"] != "u1" || st["events"] != int64(3) {
		t.Errorf("entry state %v", st)
	}
	if len(b) > 60 {
		t.Errorf("entry of %d bytes: %x", len(b), b)
	}
}

// TestTableEntryJSON: JSON entries of earlier versions are still read.
func TestTableEntryJSON(t *testing.T) {
	c := userStatsCodec(t)
	old := `{"offset":9,"partition":2,"state":{"events":3,"last_country":"KR","last_event_type":"purchase","last_ts":1700000000123,"purchases":1,"total_spent":12.5,"user_id":"u1"}}`
	v, err := c.Decode([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	want := &TableEntry{State: sampleState(), Partition: 2, Offset: 9}
	if got := v.(*TableEntry); !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %#v, want %#v", got, want)
	}
}

// TestTableEntryRefused: an entry of another state schema, a truncated one
// and one with trailing bytes fail to decode instead of being misread.
func TestTableEntryRefused(t *testing.T) {
	c := userStatsCodec(t)
	b, err := c.Encode(&TableEntry{State: sampleState(), Partition: 1, Offset: 2})
	if err != nil {
		t.Fatal(err)
	}
	other, err := codecs.NewSchemas().Parse(`{"type": "record", "name": "Other", "fields": [{"name": "n", "type": "long"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	oc, err := newTableCodec(other)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		codec *tableCodec
		data  []byte
		want  string
	}{
		"other schema": {oc, b, "written with entry schema id"},
		"truncated":    {c, b[:len(b)-3], "decoding table entry"},
		"trailing":     {c, append(append([]byte{}, b...), 1), "trailing bytes"},
		"no frame":     {c, []byte{1, 2}, "not the wire format"},
	}
	for name, tc := range cases {
		if _, err := tc.codec.decode(tc.data); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, tc.want)
		}
		// Goka's Decode never fails (that would fail the processor at
		// every restart): it hands the handler a badEntry with the reason.
		v, err := tc.codec.Decode(tc.data)
		if bad, ok := v.(badEntry); err != nil || !ok || !strings.Contains(bad.err.Error(), tc.want) {
			t.Errorf("%s: Decode = %#v, %v; want a badEntry containing %q", name, v, err, tc.want)
		}
	}
}

// TestTableEntryHistory: the input history round-trips, and an entry
// without one reads as the zero history.
func TestTableEntryHistory(t *testing.T) {
	c := userStatsCodec(t)
	for _, h := range []History{{}, {TopicID: "kK6dPJZfTAOtu8Fn3DVsLg", Generation: 3}, {Generation: 1}} {
		in := &TableEntry{State: sampleState(), Partition: 2, Offset: 41, History: h}
		b, err := c.Encode(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(out, in) {
			t.Errorf("history %+v: decoded %+v, want %+v", h, out, in)
		}
	}
}

// TestTableEntryEvolution: once registered, entries carry the registry id,
// and entries written under an earlier registered state schema are read
// with the current one (a new field takes its default).
func TestTableEntryEvolution(t *testing.T) {
	old := userStatsCodec(t)
	if err := old.registered(7, nil, nil); err != nil {
		t.Fatal(err)
	}
	e := &TableEntry{State: sampleState(), Partition: 0, Offset: 9, History: History{Generation: 2}}
	b, err := old.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := codecs.FrameSchemaID(b); id != 7 {
		t.Fatalf("entry schema id %d, want the registered 7", id)
	}
	text, err := json.Marshal(old.entry)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := codecs.NewSchemas().Parse(`{"type": "record", "name": "S", "fields": [
		{"name": "n", "type": "long"}, {"name": "tag", "type": "string", "default": "none"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := codecs.NewSchemas().Parse(`{"type": "record", "name": "S", "fields": [{"name": "n", "type": "long"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	c1, err := newTableCodec(v1)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := newTableCodec(v2)
	if err != nil {
		t.Fatal(err)
	}
	if err := c1.registered(1, nil, nil); err != nil {
		t.Fatal(err)
	}
	old1, err := c1.Encode(&TableEntry{State: map[string]any{"n": int64(5)}, Offset: 3})
	if err != nil {
		t.Fatal(err)
	}
	v1Text, err := json.Marshal(c1.entry)
	if err != nil {
		t.Fatal(err)
	}
	fetched := 0
	fetch := func(_ context.Context, id int) (string, error) {
		fetched++
		if id != 1 {
			return "", fmt.Errorf("no id %d", id)
		}
		return string(v1Text), nil
	}
	if err := c2.registered(2, nil, fetch); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err := c2.decode(old1)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]any{"n": int64(5), "tag": "none"}; !reflect.DeepEqual(got.State, want) {
			t.Errorf("old entry read as %v, want %v", got.State, want)
		}
	}
	if fetched != 1 {
		t.Errorf("the registry was asked %d times for id 1, want once", fetched)
	}
	// Preloaded ids need no fetch; an id the registry does not know is a
	// bad entry, not a crash.
	c3, err := newTableCodec(v2)
	if err != nil {
		t.Fatal(err)
	}
	if err := c3.registered(2, map[int]string{1: string(v1Text), 7: string(text)}, nil); err == nil {
		t.Error("a registered entry schema of another state type was accepted")
	}
	if err := c3.registered(2, map[int]string{1: string(v1Text)}, fetch); err != nil {
		t.Fatal(err)
	}
	if _, err := c3.decode(old1); err != nil || fetched != 1 {
		t.Errorf("preloaded id: %v, %d fetches", err, fetched)
	}
	unknown := append([]byte{0, 0, 0, 0, 9}, old1[5:]...)
	if v, err := c3.Decode(unknown); err != nil {
		t.Errorf("Decode failed: %v", err)
	} else if _, ok := v.(badEntry); !ok {
		t.Errorf("unknown id decoded as %#v, want a badEntry", v)
	}
}

// BenchmarkTableEntryDecode is the per-message cost of reading a key's
// state from its table value: the JSON entries of earlier versions (decoded,
// then coerced to the state schema), Avro entries under the current state
// schema, and Avro entries written under an earlier registered state schema
// (resolved to the current one).
func BenchmarkTableEntryDecode(b *testing.B) {
	c := userStatsCodec(b)
	e := &TableEntry{State: sampleState(), Partition: 3, Offset: 123456, History: History{TopicID: "kK6dPJZfTAOtu8Fn3DVsLg", Generation: 1764500000000}}
	avroEntry, err := c.Encode(e)
	if err != nil {
		b.Fatal(err)
	}
	jsonEntry, err := json.Marshal(map[string]any{"state": codecs.ToJSON(e.State), "partition": e.Partition, "offset": e.Offset})
	if err != nil {
		b.Fatal(err)
	}
	// An earlier state schema: user_stats without last_country.
	older, err := codecs.NewSchemas().Parse(`{"type": "record", "name": "UserStats", "namespace": "com.example.events", "fields": [
		{"name": "user_id", "type": "string"}, {"name": "events", "type": "long"}, {"name": "purchases", "type": "long"},
		{"name": "total_spent", "type": "double"}, {"name": "last_event_type", "type": "string"},
		{"name": "last_ts", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}`)
	if err != nil {
		b.Fatal(err)
	}
	oc, err := newTableCodec(older)
	if err != nil {
		b.Fatal(err)
	}
	if err := oc.registered(1, nil, nil); err != nil {
		b.Fatal(err)
	}
	oldState := sampleState()
	delete(oldState, "last_country")
	olderEntry, err := oc.Encode(&TableEntry{State: oldState, Partition: 3, Offset: 1})
	if err != nil {
		b.Fatal(err)
	}
	olderText, err := json.Marshal(oc.entry)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.registered(2, map[int]string{1: string(olderText)}, nil); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		data []byte
	}{{"json", jsonEntry}, {"avro", avroEntry}, {"avro-resolved", olderEntry}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.decode(bc.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
