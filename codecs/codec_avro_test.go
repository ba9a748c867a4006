package codecs_test

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
)

var tsFixture = time.Date(2026, 11, 26, 9, 30, 0, 123_000_000, time.UTC)

func v1Event() map[string]any {
	return map[string]any{"user_id": "u1", "event_type": "purchase", "amount": 12.5, "ts": tsFixture}
}

func TestAvroV1WriterV2Reader(t *testing.T) {
	reg := newTestRegistry(t)
	s := codecs.NewSchemas()
	v1 := mustAvro(t, reg.client(), s, mustParse(t, s, userEventV1(t)), codecs.WithSubject("user-topic", codecs.TopicNameStrategy))
	v2 := mustAvro(t, reg.client(), s, mustParse(t, s, userEventV2(t)), codecs.WithSubject("user-topic", codecs.TopicNameStrategy))

	frame, err := v1.Encode(v1Event())
	if err != nil {
		t.Fatal(err)
	}
	got, err := v2.Decode(frame)
	if err != nil {
		t.Fatal(err)
	}
	want := v1Event()
	want["country"] = nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("v1 -> v2:\n got %#v\nwant %#v", got, want)
	}
}

func TestAvroV2WriterV1Reader(t *testing.T) {
	reg := newTestRegistry(t)
	s := codecs.NewSchemas()
	v1 := mustAvro(t, reg.client(), s, mustParse(t, s, userEventV1(t)))
	v2 := mustAvro(t, reg.client(), s, mustParse(t, s, userEventV2(t)), codecs.WithSubject("user-topic", codecs.TopicNameStrategy))
	ev := v1Event()
	ev["country"] = "DE"
	frame, err := v2.Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v1.Decode(frame)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, v1Event()) {
		t.Fatalf("v2 -> v1:\n got %#v\nwant %#v", got, v1Event())
	}
	// and v2 -> v2 keeps the country as a plain string, not hamba's {"string": "DE"}
	got, err = v2.Decode(frame)
	if err != nil {
		t.Fatal(err)
	}
	if c := got.(map[string]any)["country"]; c != "DE" {
		t.Fatalf("country = %#v, want \"DE\"", c)
	}
}

// The encoder writes the same bytes as hamba's own Marshal.
func TestAvroEncodeMatchesHamba(t *testing.T) {
	reg := newTestRegistry(t)
	s := codecs.NewSchemas()
	reader := mustParse(t, s, userEventV2(t))
	c := mustAvro(t, reg.client(), s, reader, codecs.WithSubjectName("x-value"))
	for _, country := range []any{nil, "FR"} {
		ev := v1Event()
		ev["country"] = country
		frame, err := c.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		want, err := avro.Marshal(reader, ev)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(frame[5:], want) {
			t.Fatalf("country %v: payload %x, hamba %x", country, frame[5:], want)
		}
	}
}

func TestAvroEmptyRecordFiveByteFrame(t *testing.T) {
	reg := newTestRegistry(t)
	s := codecs.NewSchemas()
	empty := mustParse(t, s, `{"type":"record","name":"Empty","namespace":"t","fields":[]}`)
	c := mustAvro(t, reg.client(), s, empty, codecs.WithSubject("empty", codecs.TopicNameStrategy))
	frame, err := c.Encode(map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if len(frame) != 5 {
		t.Fatalf("frame %x: want 5 bytes", frame)
	}
	got, err := c.Decode(frame)
	if err != nil {
		t.Fatalf("5-byte frame: %v", err)
	}
	if m, ok := got.(map[string]any); !ok || len(m) != 0 {
		t.Fatalf("got %#v, want empty map", got)
	}
}

const logicalSchema = `{
  "type": "record", "name": "Everything", "namespace": "t",
  "fields": [
    {"name": "ts_ms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "ts_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
    {"name": "tod", "type": {"type": "int", "logicalType": "time-millis"}},
    {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}},
    {"name": "debt", "type": {"type": "fixed", "name": "Dec8", "size": 8, "logicalType": "decimal", "precision": 18, "scale": 3}},
    {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
    {"name": "n", "type": "int"},
    {"name": "f", "type": "float"},
    {"name": "ok", "type": "boolean"},
    {"name": "raw", "type": "bytes"},
    {"name": "hash", "type": {"type": "fixed", "name": "Hash4", "size": 4}},
    {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}},
    {"name": "ints", "type": {"type": "array", "items": "int"}},
    {"name": "longs", "type": {"type": "map", "values": "long"}},
    {"name": "maybe_ts", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}], "default": null},
    {"name": "maybe_int", "type": ["null", "int"], "default": null},
    {"name": "addr", "type": ["null", {"type": "record", "name": "Addr", "fields": [
        {"name": "city", "type": "string"}, {"name": "zip", "type": ["null", "int"], "default": null}]}], "default": null},
    {"name": "tags", "type": ["null", {"type": "array", "items": "string"}], "default": null},
    {"name": "pick", "type": ["null", "Color", "Hash4"], "default": null}
  ]
}`

func everything() map[string]any {
	return map[string]any{
		"ts_ms":     tsFixture,
		"ts_us":     time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC),
		"day":       time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC),
		"tod":       13*time.Hour + 250*time.Millisecond,
		"price":     big.NewRat(-123456, 100),
		"debt":      big.NewRat(987654321, 1000),
		"id":        "0b6f3a4e-2f1c-4d7b-9a0e-3c5d7e9f1a2b",
		"n":         int32(-7),
		"f":         float32(1.5),
		"ok":        true,
		"raw":       []byte{0, 1, 2, 255},
		"hash":      []byte{9, 8, 7, 6},
		"color":     "GREEN",
		"ints":      []any{int32(1), int32(-2), int32(300)},
		"longs":     map[string]any{"a": int64(1) << 40},
		"maybe_ts":  tsFixture,
		"maybe_int": int32(42),
		"addr":      map[string]any{"city": "Berlin", "zip": int32(10115)},
		"tags":      []any{"x", "y"},
		"pick":      []byte{1, 2, 3, 4},
	}
}

func TestAvroLogicalTypesRoundTrip(t *testing.T) {
	reg := newTestRegistry(t)
	s := codecs.NewSchemas()
	c := mustAvro(t, reg.client(), s, mustParse(t, s, logicalSchema), codecs.WithSubjectName("everything-value"))
	frame, err := c.Encode(everything())
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Decode(frame)
	if err != nil {
		t.Fatal(err)
	}
	want := everything()
	gm := got.(map[string]any)
	for k, w := range want {
		g := gm[k]
		if wr, ok := w.(*big.Rat); ok {
			if gr, ok := g.(*big.Rat); !ok || gr.Cmp(wr) != 0 {
				t.Errorf("%s: got %#v, want %s", k, g, wr.RatString())
			}
			continue
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: got %#v (%T), want %#v (%T)", k, g, g, w, w)
		}
	}
	if len(gm) != len(want) {
		t.Errorf("got %d fields, want %d", len(gm), len(want))
	}

	// Nulls in every union, and the other branch of pick.
	in := everything()
	in["maybe_ts"], in["maybe_int"], in["addr"], in["tags"], in["pick"] = nil, nil, nil, nil, "RED"
	if frame, err = c.Encode(in); err != nil {
		t.Fatal(err)
	}
	if got, err = c.Decode(frame); err != nil {
		t.Fatal(err)
	}
	gm = got.(map[string]any)
	for _, k := range []string{"maybe_ts", "maybe_int", "addr", "tags"} {
		if gm[k] != nil {
			t.Errorf("%s = %#v, want nil", k, gm[k])
		}
	}
	if gm["pick"] != "RED" {
		t.Errorf("pick = %#v, want RED", gm["pick"])
	}
}

func TestAvroUnionBranchSelection(t *testing.T) {
	reg := newTestRegistry(t)
	s := codecs.NewSchemas()
	sch := mustParse(t, s, `{"type":"record","name":"U","namespace":"t","fields":[
		{"name":"u","type":["null","int","long","double","string","boolean",
			{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}]}]}`)
	c := mustAvro(t, reg.client(), s, sch, codecs.WithSubjectName("u-value"))
	cases := []struct {
		in     any
		branch byte // zigzag varint of the branch index
		want   any
	}{
		{nil, 0, nil},
		{int32(5), 2, int32(5)},
		{int64(5), 4, int64(5)},
		{5, 2, int32(5)},             // plain int: first branch it fits
		{1 << 40, 4, int64(1 << 40)}, // too big for int: long
		{2.5, 6, 2.5},
		{"x", 8, "x"},
		{true, 10, true},
		{map[string]any{"a": int32(1)}, 12, map[string]any{"a": int32(1)}},
		{map[string]any{"long": int64(9)}, 4, int64(9)}, // hamba's wrapped form
	}
	for _, tc := range cases {
		frame, err := c.Encode(map[string]any{"u": tc.in})
		if err != nil {
			t.Fatalf("%#v: %v", tc.in, err)
		}
		if frame[5] != tc.branch {
			t.Errorf("%#v: branch byte %d, want %d", tc.in, frame[5], tc.branch)
		}
		got, err := c.Decode(frame)
		if err != nil {
			t.Fatal(err)
		}
		if g := got.(map[string]any)["u"]; !reflect.DeepEqual(g, tc.want) {
			t.Errorf("%#v: decoded %#v (%T), want %#v", tc.in, g, g, tc.want)
		}
	}
	if _, err := c.Encode(map[string]any{"u": []int{1}}); !errors.Is(err, codecs.ErrPoison) {
		t.Fatalf("no branch fits: err %v, want poison", err)
	}
}

func TestAvroRegisterOnceAndEncodeNil(t *testing.T) {
	reg := newTestRegistry(t)
	s := codecs.NewSchemas()
	c := mustAvro(t, reg.client(), s, mustParse(t, s, userEventV2(t)), codecs.WithSubject("user-topic", codecs.TopicNameStrategy))
	if c.Subject() != "user-topic-value" {
		t.Fatalf("subject %q", c.Subject())
	}
	id, err := c.Register(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	id2, err := c.Register(context.Background())
	if err != nil || id2 != id {
		t.Fatalf("second Register = %d, %v; want %d", id2, err, id)
	}
	frame, err := c.Encode(v1Event())
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := codecs.FrameSchemaID(frame); !ok || got != id {
		t.Fatalf("frame id %d %v, want %d", got, ok, id)
	}
	if _, err := c.Encode(nil); !errors.Is(err, codecs.ErrPoison) {
		t.Fatalf("Encode(nil) = %v, want poison", err)
	}
	noSubject := mustAvro(t, reg.client(), s, mustParse(t, s, userEventV2(t)))
	if _, err := noSubject.Encode(v1Event()); !errors.Is(err, codecs.ErrPoison) {
		t.Fatalf("Encode without subject = %v, want poison", err)
	}
}

func TestAvroConcurrentFirstDecodeFetchesOnce(t *testing.T) {
	reg := newTestRegistry(t)
	s := codecs.NewSchemas()
	writer := mustAvro(t, reg.client(), s, mustParse(t, s, userEventV1(t)), codecs.WithSubject("user-topic", codecs.TopicNameStrategy))
	frame, err := writer.Encode(v1Event())
	if err != nil {
		t.Fatal(err)
	}
	reader := mustAvro(t, reg.client(), s, mustParse(t, s, userEventV2(t)))
	before := reg.fetches.Load()

	const n = 50
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			<-start
			v, err := reader.Decode(frame)
			if err == nil && v.(map[string]any)["user_id"] != "u1" {
				err = errors.New("wrong value")
			}
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := reg.fetches.Load() - before; got != 1 {
		t.Fatalf("%d registry fetches for one new id, want exactly 1", got)
	}
}
