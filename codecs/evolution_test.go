package codecs_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/codecs"
)

// Writer and reader schemas that differ by promotions, union changes, added and removed
// fields, resolved through the registry like production traffic.
func TestAvroSchemaEvolution(t *testing.T) {
	cases := []struct {
		name           string
		writer, reader string
		in             map[string]any
		want           map[string]any
	}{
		{
			name:   "promotions",
			writer: `[{"name":"a","type":"int"},{"name":"b","type":"long"},{"name":"c","type":"float"},{"name":"d","type":"string"},{"name":"e","type":"int"}]`,
			reader: `[{"name":"a","type":"long"},{"name":"b","type":"double"},{"name":"c","type":"double"},{"name":"d","type":"bytes"},{"name":"e","type":"float"}]`,
			in:     map[string]any{"a": int32(-3), "b": int64(1) << 40, "c": float32(0.5), "d": "hi", "e": int32(7)},
			want:   map[string]any{"a": int64(-3), "b": float64(int64(1) << 40), "c": 0.5, "d": []byte("hi"), "e": float32(7)},
		},
		{
			name:   "plain to union and union widening",
			writer: `[{"name":"a","type":"string"},{"name":"b","type":["null","int"]},{"name":"n","type":"int"}]`,
			reader: `[{"name":"a","type":["null","string"]},{"name":"b","type":["null","string","long"]},{"name":"n","type":"int"}]`,
			in:     map[string]any{"a": "x", "b": int32(5), "n": int32(1)},
			want:   map[string]any{"a": "x", "b": int64(5), "n": int32(1)},
		},
		{
			name:   "added with defaults, removed",
			writer: `[{"name":"keep","type":"int"},{"name":"gone","type":"string"}]`,
			reader: `[{"name":"keep","type":"int"},{"name":"n","type":"int","default":4},{"name":"tags","type":{"type":"array","items":"int"},"default":[1]},{"name":"m","type":["null","int"],"default":null}]`,
			in:     map[string]any{"keep": int32(9), "gone": "x"},
			want:   map[string]any{"keep": int32(9), "n": int32(4), "tags": []any{int32(1)}, "m": nil},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := newTestRegistry(t)
			s := codecs.NewSchemas()
			w := mustAvro(t, reg.client(), s, mustParse(t, s, `{"type":"record","name":"R","namespace":"ev","fields":`+tc.writer+`}`), codecs.WithSubjectName("ev-w"))
			r := mustAvro(t, reg.client(), s, mustParse(t, s, `{"type":"record","name":"R","namespace":"ev","fields":`+tc.reader+`}`))
			frame, err := w.Encode(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Decode(frame)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestAvroNonRecordReader(t *testing.T) {
	reg := newTestRegistry(t)
	s := codecs.NewSchemas()
	for _, tc := range []struct {
		schema string
		in     any
		want   any
	}{
		{`"string"`, "k-1", "k-1"},
		{`"int"`, 5, int32(5)},
		{`{"type":"array","items":"int"}`, []int{1, 2}, []any{int32(1), int32(2)}},
	} {
		c := mustAvro(t, reg.client(), s, mustParse(t, s, tc.schema), codecs.WithKeySubject("t"+tc.schema[1:4], codecs.TopicNameStrategy))
		frame, err := c.Encode(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Decode(frame)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Fatalf("%s: got %#v, %v; want %#v", tc.schema, got, err, tc.want)
		}
	}
	// A writer union that may hold null cannot be read as a plain string: poison.
	w := mustAvro(t, reg.client(), s, mustParse(t, s, `["null","string"]`), codecs.WithSubjectName("u-key"))
	r := mustAvro(t, reg.client(), s, mustParse(t, s, `"string"`))
	frame, err := w.Encode("x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Decode(frame); !errors.Is(err, codecs.ErrPoison) {
		t.Fatalf("err %v: want poison", err)
	}
}
