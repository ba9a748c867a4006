package pipeline

import (
	"reflect"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/processors"
)

// TestTableEntryWindows: an entry's windows and stream time come back as
// written, and its bytes are Avro of the documented entry schema, the
// stream time as the last window with end math.MinInt64.
func TestTableEntryWindows(t *testing.T) {
	s, err := codecs.NewSchemas().ParseFile("../schemas/user_purchases_5m.avsc")
	if err != nil {
		t.Fatal(err)
	}
	c, err := newTableCodec(s)
	if err != nil {
		t.Fatal(err)
	}
	state := func(start, purchases int64) map[string]any {
		return map[string]any{"user_id": "u1", "window_start": time.UnixMilli(start).UTC(), "window_end": time.UnixMilli(start + 300_000).UTC(),
			"purchases": purchases, "total_spent": float64(purchases) * 1.5}
	}
	in := &TableEntry{State: state(300_000, 2), Partition: 3, Offset: 42, Windows: &processors.Windows{
		StreamTime: 420_000,
		Open:       []processors.Window{{Start: 0, End: 300_000, State: state(0, 1)}, {Start: 300_000, End: 600_000, State: state(300_000, 2)}},
	}}
	b, err := c.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, in) {
		t.Fatalf("decoded %#v\nwant %#v", got, in)
	}
	var rec map[string]any
	if err := avro.Unmarshal(c.entry, b[entryHeaderSize:], &rec); err != nil {
		t.Fatalf("the entry is not Avro of the entry schema: %v", err)
	}
	ws := rec["windows"].([]any)
	if len(ws) != 3 {
		t.Fatalf("%d windows in the record, want 2 and the stream-time mark", len(ws))
	}
	if mark := ws[2].(map[string]any); mark["start"] != int64(420_000) || mark["end"] != int64(windowMarkEnd) {
		t.Errorf("stream-time mark %v", mark)
	}

	// A key whose windows all closed keeps the stream time; an entry
	// without windows (a pipeline without a window step) has none.
	for _, e := range []*TableEntry{
		{State: state(0, 1), Windows: &processors.Windows{StreamTime: 7}},
		{State: state(0, 1)},
	} {
		b, err := c.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("decoded %#v\nwant %#v", got, e)
		}
	}
}
