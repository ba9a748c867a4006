package codecs

import (
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
)

// readSchema has every type compileRead reads, nested.
const readSchema = `{"type": "record", "name": "R", "namespace": "t", "fields": [
  {"name": "s", "type": "string"},
  {"name": "u", "type": {"type": "string", "logicalType": "uuid"}},
  {"name": "i", "type": "int"},
  {"name": "l", "type": "long"},
  {"name": "f", "type": "float"},
  {"name": "d", "type": "double"},
  {"name": "b", "type": "boolean"},
  {"name": "by", "type": "bytes"},
  {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "tsu", "type": {"type": "long", "logicalType": "timestamp-micros"}},
  {"name": "day", "type": {"type": "int", "logicalType": "date"}},
  {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}},
  {"name": "tmu", "type": {"type": "long", "logicalType": "time-micros"}},
  {"name": "opt", "type": ["null", "string"], "default": null},
  {"name": "multi", "type": ["null", "long", "E", {"type": "array", "items": "int"}]},
  {"name": "arr", "type": {"type": "array", "items": {"type": "record", "name": "Item", "fields": [{"name": "n", "type": "int"}]}}},
  {"name": "m", "type": {"type": "map", "values": ["null", "double"]}},
  {"name": "next", "type": ["null", "R"], "default": null}
]}`

// TestCompiledReadMatchesHamba: the compiled reader gives exactly what
// hamba's decoder and the normaliser give, and fails where they fail.
func TestCompiledReadMatchesHamba(t *testing.T) {
	s, err := NewSchemas().Parse(readSchema)
	if err != nil {
		t.Fatal(err)
	}
	inner := map[string]any{
		"s": "", "u": "123e4567-e89b-12d3-a456-426614174000", "i": int32(-7), "l": int64(1) << 40, "f": float32(1.5),
		"d": -2.25, "b": false, "by": []byte{}, "e": "A", "ts": time.UnixMilli(-1500).UTC(), "tsu": time.UnixMicro(1_700_000_000_123_456).UTC(),
		"day": time.Unix(19000*86400, 0).UTC(), "tm": 1500 * time.Millisecond, "tmu": 7 * time.Microsecond,
		"opt": nil, "multi": "B", "arr": []any{}, "m": map[string]any{}, "next": nil,
	}
	outer := map[string]any{
		"s": "héllo", "u": "123e4567-e89b-12d3-a456-426614174000", "i": int32(1) << 30, "l": int64(-3), "f": float32(-0.25),
		"d": 1e300, "b": true, "by": []byte{0, 1, 2}, "e": "B", "ts": time.UnixMilli(1_700_000_000_123).UTC(), "tsu": time.UnixMicro(-5).UTC(),
		"day": time.Unix(0, 0).UTC(), "tm": time.Duration(0), "tmu": time.Hour,
		"opt": "x", "multi": []any{int32(1), int32(2)}, "arr": []any{map[string]any{"n": int32(1)}, map[string]any{"n": int32(2)}},
		"m": map[string]any{"a": 1.0, "b": nil}, "next": inner,
	}
	for name, v := range map[string]map[string]any{"inner": inner, "outer": outer} {
		b, err := appendValue(nil, s, v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, wantErr := viaHamba(s, b)
		got, gotErr := viaCompiled(s, b)
		if wantErr != nil || gotErr != nil {
			t.Fatalf("%s: hamba %v, compiled %v", name, wantErr, gotErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: compiled read\n%#v\nhamba\n%#v", name, got, want)
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("%s: read\n%#v\nwrote\n%#v", name, got, v)
		}
		for cut := range len(b) {
			if _, err := viaCompiled(s, b[:cut]); err == nil {
				t.Errorf("%s: %d of %d bytes read without error", name, cut, len(b))
			}
		}
	}
	// A corrupt array count is refused, not allocated.
	arr, _ := NewSchemas().Parse(`{"type": "array", "items": "long"}`)
	if _, err := viaCompiled(arr, []byte{0xfe, 0xff, 0xff, 0xff, 0x0f}); err == nil {
		t.Error("a block of two billion items read without error")
	}
}

func TestCompileReadLeavesDecimals(t *testing.T) {
	lts, err := NewSchemas().Parse(`{"type": "long", "logicalType": "local-timestamp-millis"}`)
	if err != nil {
		t.Fatal(err)
	}
	if compileRead(lts) != nil {
		t.Error("a local timestamp compiled: hamba's decoder must read it")
	}
	s, err := NewSchemas().Parse(`{"type": "record", "name": "D", "fields": [{"name": "x", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if compileRead(s) != nil {
		t.Error("a decimal compiled: hamba's decoder must read it")
	}
	b := NewBinary(s)
	data, err := b.Append(nil, map[string]any{"x": big.NewRat(314, 100)})
	if err != nil {
		t.Fatal(err)
	}
	r := b.NewReader()
	r.Reset(data)
	v := b.Read(r)
	if err := ReadEnd(r); err != nil || v.(map[string]any)["x"].(*big.Rat).Cmp(big.NewRat(314, 100)) != 0 {
		t.Errorf("decimal read %v, %v", v, err)
	}
}

func viaHamba(s avro.Schema, b []byte) (any, error) {
	api := avro.Config{MaxSliceAllocSize: maxSliceAlloc}.Freeze()
	norm := prepare(api, s)
	r := avro.NewReader(nil, 0, avro.WithReaderConfig(api))
	r.Reset(b)
	v := readAny(r, s)
	if err := ReadEnd(r); err != nil {
		return nil, err
	}
	if norm != nil {
		v = norm(v)
	}
	return v, nil
}

func viaCompiled(s avro.Schema, b []byte) (any, error) {
	read := compileRead(s)
	r := avro.NewReader(nil, 0)
	r.Reset(b)
	v := read(r)
	if err := ReadEnd(r); err != nil {
		return nil, err
	}
	return v, nil
}
