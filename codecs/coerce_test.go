package codecs_test

import (
	"encoding/json"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/codecs"
)

func TestCoerce(t *testing.T) {
	s := codecs.NewSchemas()
	ue := mustParse(t, s, userEventV2(t))
	ev := mustParse(t, s, logicalSchema)

	got, err := codecs.Coerce(ue, map[string]any{
		"user_id": "u1", "event_type": "login", "amount": json.Number("3"), "ts": float64(1764149400123),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"user_id": "u1", "event_type": "login", "amount": 3.0,
		"ts": time.UnixMilli(1764149400123).UTC(), "country": nil}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}

	got, err = codecs.Coerce(ue, map[string]any{
		"user_id": "u1", "event_type": "login", "amount": 7, "ts": "2026-11-26T09:30:00.123+01:00", "country": "PT", "extra": 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	m := got.(map[string]any)
	if m["ts"] != time.Date(2026, 11, 26, 8, 30, 0, 123e6, time.UTC) || m["amount"] != 7.0 || m["country"] != "PT" {
		t.Fatalf("got %#v", m)
	}
	if _, ok := m["extra"]; ok {
		t.Fatal("unknown key kept")
	}

	loose := map[string]any{
		"ts_ms": int64(1764149400123), "ts_us": json.Number("1767323045123456"), "day": "1969-12-31",
		"tod": 47000250, "price": "-1234.56", "debt": 987654.321, "id": "0b6f3a4e-2f1c-4d7b-9a0e-3c5d7e9f1a2b",
		"n": float64(-7), "f": 1.5, "ok": "true", "raw": "\x00\x01", "hash": [4]byte{9, 8, 7, 6}, "color": "GREEN",
		"ints": []int{1, 2}, "longs": map[string]int{"a": 1}, "maybe_int": json.Number("42"),
		"addr": map[string]any{"city": "Berlin"}, "tags": []string{"x"}, "pick": "RED",
	}
	got, err = codecs.Coerce(ev, loose)
	if err != nil {
		t.Fatal(err)
	}
	m = got.(map[string]any)
	checks := map[string]any{
		"ts_ms": time.UnixMilli(1764149400123).UTC(), "ts_us": time.UnixMicro(1767323045123456).UTC(),
		"day": time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), "tod": 47000250 * time.Millisecond,
		"n": int32(-7), "f": float32(1.5), "ok": true, "raw": []byte{0, 1}, "hash": []byte{9, 8, 7, 6},
		"ints": []any{int32(1), int32(2)}, "longs": map[string]any{"a": int64(1)}, "maybe_int": int32(42),
		"addr": map[string]any{"city": "Berlin", "zip": nil}, "tags": []any{"x"}, "pick": "RED", "maybe_ts": nil,
	}
	for k, w := range checks {
		if !reflect.DeepEqual(m[k], w) {
			t.Errorf("%s: got %#v (%T), want %#v", k, m[k], m[k], w)
		}
	}
	if r := m["price"].(*big.Rat); r.Cmp(big.NewRat(-123456, 100)) != 0 {
		t.Errorf("price %s", r.RatString())
	}
	if r := m["debt"].(*big.Rat); r.Cmp(big.NewRat(987654321, 1000)) != 0 {
		t.Errorf("debt %s", r.RatString())
	}
}

func TestCoerceErrorsNameTheField(t *testing.T) {
	s := codecs.NewSchemas()
	ev := mustParse(t, s, logicalSchema)
	base := func() map[string]any {
		m := everything()
		return m
	}
	cases := []struct {
		field string
		value any
		want  string
	}{
		{"n", 1 << 40, "field n: "},
		{"n", 1.5, "field n: 1.5 is not an integer"},
		{"f", "x", "field f: string (x) where number expected"},
		{"color", "BLUE", `field color: "BLUE" is not a symbol of enum t.Color`},
		{"ts_ms", "yesterday", `field ts_ms: "yesterday" is neither RFC 3339 nor a date`},
		{"price", "1.234", "field price: decimal 617/500 has more than 2 fractional digits"},
		{"id", "not-a-uuid", `field id: "not-a-uuid" is not a UUID`},
		{"hash", []byte{1}, "field hash: 1 bytes where fixed t.Hash4 needs 4"},
		{"ints", []any{int32(1), "two"}, "field ints[1]: string (two) where integer expected"},
		{"longs", map[string]any{"k": "v"}, "field longs[k]: "},
		{"addr", map[string]any{"city": 5}, "field addr.city: int (5) where string expected"},
		{"ok", nil, "field ok: null where boolean expected"},
	}
	for _, tc := range cases {
		m := base()
		m[tc.field] = tc.value
		_, err := codecs.Coerce(ev, m)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%#v: err %v, want it to contain %q", tc.field, tc.value, err, tc.want)
		}
	}
	m := base()
	delete(m, "n")
	if _, err := codecs.Coerce(ev, m); err == nil || !strings.Contains(err.Error(), "field n: missing (no default)") {
		t.Errorf("missing field: %v", err)
	}
	// a nested record's field path
	nested := mustParse(t, s, `{"type":"record","name":"O","namespace":"n","fields":[
		{"name":"inner","type":{"type":"record","name":"I","fields":[{"name":"zip","type":"int"}]}}]}`)
	_, err := codecs.Coerce(nested, map[string]any{"inner": map[string]any{"zip": "x"}})
	if err == nil || !strings.Contains(err.Error(), "field inner.zip: ") {
		t.Errorf("nested: %v", err)
	}
}
