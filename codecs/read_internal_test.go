package codecs

import (
	"math/big"
	"os"
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

// resolveWriter and resolveReader are an evolution with every kind of change
// compileResolve reads: promotions, reordered and added union branches, enum
// symbols the reader lacks, a renamed field, skipped fields of every type and
// reader fields that take their defaults.
const resolveWriter = `{"type": "record", "name": "R", "namespace": "t", "fields": [
  {"name": "a", "type": "int"},
  {"name": "b", "type": "int"},
  {"name": "c", "type": "long"},
  {"name": "d", "type": "float"},
  {"name": "e", "type": "string"},
  {"name": "f", "type": "bytes"},
  {"name": "g", "type": {"type": "enum", "name": "E", "symbols": ["A", "B", "C"]}},
  {"name": "h", "type": ["null", "string"]},
  {"name": "i", "type": "string"},
  {"name": "j", "type": ["null", "long"]},
  {"name": "skipped", "type": {"type": "array", "items": {"type": "record", "name": "S", "fields": [
    {"name": "m", "type": {"type": "map", "values": ["null", {"type": "fixed", "name": "F", "size": 3}, "E", "double", "boolean", "float"]}},
    {"name": "b", "type": "bytes"}]}}},
  {"name": "l", "type": {"type": "array", "items": "int"}},
  {"name": "m", "type": {"type": "map", "values": "float"}},
  {"name": "n", "type": {"type": "record", "name": "N", "fields": [{"name": "x", "type": "int"}, {"name": "gone", "type": "string"}]}},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "tail", "type": "long"}
]}`

const resolveReader = `{"type": "record", "name": "R", "namespace": "t", "fields": [
  {"name": "tail", "type": "long"},
  {"name": "a", "type": "long"},
  {"name": "b", "type": "double"},
  {"name": "c", "type": "float"},
  {"name": "d", "type": "double"},
  {"name": "e", "type": "bytes"},
  {"name": "f", "type": "string"},
  {"name": "g", "type": {"type": "enum", "name": "E", "symbols": ["B", "A"], "default": "A"}},
  {"name": "h", "type": ["string", "null"]},
  {"name": "i", "type": ["null", "string"]},
  {"name": "j", "type": ["null", "double"]},
  {"name": "l", "type": {"type": "array", "items": "long"}},
  {"name": "m", "type": {"type": "map", "values": "double"}},
  {"name": "n2", "aliases": ["n"], "type": {"type": "record", "name": "N", "fields": [{"name": "x", "type": "long"}]}},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "p", "type": "int", "default": 7},
  {"name": "q", "type": "string", "default": "x"},
  {"name": "r", "type": ["null", "int"], "default": null},
  {"name": "s", "type": "double", "default": 1.5},
  {"name": "t", "type": "boolean", "default": true},
  {"name": "u", "type": "E", "default": "B"},
  {"name": "v", "type": {"type": "long", "logicalType": "timestamp-millis"}, "default": 1000}
]}`

// TestCompiledResolveMatchesHamba: values written with one schema and read
// as another come out of the compiled reader exactly as out of hamba's
// decoder of the resolved schema, and a cut payload fails.
func TestCompiledResolveMatchesHamba(t *testing.T) {
	schemas := NewSchemas()
	w, err := schemas.Parse(resolveWriter)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := NewSchemas().Parse(resolveReader)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := NewSchemas().Parse(readFileInternal(t, "../testdata/schemas/user_event_v1.avsc"))
	if err != nil {
		t.Fatal(err)
	}
	v2, err := NewSchemas().Parse(readFileInternal(t, "../schemas/user_event.avsc"))
	if err != nil {
		t.Fatal(err)
	}
	skipped := []any{
		map[string]any{"m": map[string]any{"f": []byte{1, 2, 3}, "e": "C", "d": 2.5, "n": nil, "b": true, "fl": float32(0.5)}, "b": []byte("xyz")},
		map[string]any{"m": map[string]any{}, "b": []byte{}},
	}
	values := []map[string]any{
		{"a": int32(-5), "b": int32(1) << 30, "c": int64(1) << 40, "d": float32(0.1), "e": "héllo", "f": []byte("bytes"), "g": "C",
			"h": "x", "i": "y", "j": int64(-9), "skipped": skipped, "l": []any{int32(1), int32(-2)}, "m": map[string]any{"k": float32(1.25)},
			"n": map[string]any{"x": int32(3), "gone": "g"}, "ts": time.UnixMilli(1_700_000_000_123).UTC(), "tail": int64(42)},
		{"a": int32(0), "b": int32(0), "c": int64(0), "d": float32(0), "e": "", "f": []byte{}, "g": "B",
			"h": nil, "i": "", "j": nil, "skipped": []any{}, "l": []any{}, "m": map[string]any{},
			"n": map[string]any{"x": int32(0), "gone": ""}, "ts": time.UnixMilli(0).UTC(), "tail": int64(-1)},
	}
	event := map[string]any{"user_id": "u1", "event_type": "purchase", "amount": 9.5, "ts": time.UnixMilli(1_700_000_000_000).UTC(), "country": "KR"}
	cases := []struct {
		name           string
		writer, reader avro.Schema
		values         []map[string]any
	}{
		{"evolution", w, rd, values},
		{"UserEvent v1 as v2", v1, v2, []map[string]any{event}},
		{"UserEvent v2 as v1", v2, v1, []map[string]any{event}},
	}
	for _, c := range cases {
		res, err := avro.NewSchemaCompatibility().Resolve(c.reader, c.writer)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		read := compileResolve(c.reader, c.writer)
		if read == nil {
			t.Fatalf("%s: not compiled", c.name)
		}
		for i, v := range c.values {
			b, err := appendValue(nil, c.writer, v)
			if err != nil {
				t.Fatalf("%s %d: %v", c.name, i, err)
			}
			want, wantErr := viaHamba(res, b)
			got, gotErr := viaRead(read, b)
			if wantErr != nil || gotErr != nil {
				t.Fatalf("%s %d: hamba %v, compiled %v", c.name, i, wantErr, gotErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %d: compiled read\n%#v\nhamba\n%#v", c.name, i, got, want)
			}
			for cut := range len(b) {
				if _, err := viaRead(read, b[:cut]); err == nil {
					t.Errorf("%s %d: %d of %d bytes read without error", c.name, i, cut, len(b))
				}
			}
		}
	}
}

// TestCompileResolveLeavesFixed: a type compileResolve does not read falls
// back to hamba's decoder whole.
func TestCompileResolveLeavesFixed(t *testing.T) {
	w, err := NewSchemas().Parse(`{"type": "record", "name": "R", "fields": [{"name": "f", "type": {"type": "fixed", "name": "F", "size": 2}}, {"name": "a", "type": "int"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewSchemas().Parse(`{"type": "record", "name": "R", "fields": [{"name": "f", "type": {"type": "fixed", "name": "F", "size": 2}}, {"name": "a", "type": "long"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if compileResolve(r, w) != nil {
		t.Error("a fixed field compiled: hamba's decoder must read it")
	}
}

func viaRead(read readFn, b []byte) (any, error) {
	r := avro.NewReader(nil, 0)
	r.Reset(b)
	v := read(r)
	if err := ReadEnd(r); err != nil {
		return nil, err
	}
	return v, nil
}

func readFileInternal(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
