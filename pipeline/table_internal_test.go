package pipeline

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
)

func userStatsCodec(t *testing.T) *tableCodec {
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
	if id, ok := codecs.FrameSchemaID(b); !ok || id >= 0 || int32(id) != c.id {
		t.Fatalf("schema id %d (%v), want the local id %d (negative)", id, ok, c.id)
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
		if _, err := tc.codec.Decode(tc.data); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, tc.want)
		}
	}
}
