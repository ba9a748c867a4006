package codecs_test

import (
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lovoo/goka"

	"github.com/sluicehq/sluice/codecs"
)

func TestBytes(t *testing.T) {
	var c codecs.Bytes
	in := []byte("abc")
	v, err := c.Decode(in)
	if err != nil || &v.([]byte)[0] != &in[0] {
		t.Fatalf("Decode = %v, %v: want the same slice", v, err)
	}
	if v, _ := c.Decode(nil); v.([]byte) != nil {
		t.Fatal("nil did not stay nil")
	}
	if b, err := c.Encode("x"); err != nil || string(b) != "x" {
		t.Fatalf("Encode(string) = %q, %v", b, err)
	}
	if _, err := c.Encode(1); !errors.Is(err, codecs.ErrPoison) {
		t.Fatalf("Encode(int) = %v, want poison", err)
	}
}

func TestString(t *testing.T) {
	var c codecs.String
	if v, err := c.Decode([]byte("héllo")); err != nil || v != "héllo" {
		t.Fatalf("Decode = %v, %v", v, err)
	}
	if b, err := c.Encode("k"); err != nil || string(b) != "k" {
		t.Fatalf("Encode = %q, %v", b, err)
	}
	if _, err := c.Encode(3.5); !errors.Is(err, codecs.ErrPoison) {
		t.Fatalf("Encode(float) = %v, want poison", err)
	}
}

func TestJSON(t *testing.T) {
	var c codecs.JSON
	v, err := c.Decode([]byte(`{"a":1,"b":1.5,"c":"x","d":[2,3e2],"e":null,"f":{"g":12345678901234567890}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": int64(1), "b": 1.5, "c": "x", "d": []any{int64(2), 300.0}, "e": nil,
		"f": map[string]any{"g": 12345678901234567890.0}}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("got %#v\nwant %#v", v, want)
	}
	for _, bad := range []string{"", "  ", "{", `{"a":1} x`, "nul"} {
		if _, err := c.Decode([]byte(bad)); !errors.Is(err, codecs.ErrPoison) {
			t.Errorf("Decode(%q) = %v, want poison", bad, err)
		}
	}
	b, err := c.Encode(map[string]any{
		"ts": time.UnixMilli(1764149400123).UTC(), "amount": 150.0, "country": nil,
		"price": big.NewRat(1234, 100), "raw": []byte("hi"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != `{"amount":150,"country":null,"price":"12.34","raw":"hi","ts":1764149400123}` {
		t.Fatalf("Encode = %s", got)
	}
	if b, err := c.Encode(nil); err != nil || b != nil {
		t.Fatalf("Encode(nil) = %q, %v; want a tombstone", b, err)
	}
}

func TestToJSON(t *testing.T) {
	cases := []struct {
		in, want any
	}{
		{time.Date(1970, 1, 1, 0, 0, 1, 500_999_000, time.UTC), int64(1500)},
		{1500 * time.Millisecond, int64(1500)},
		{[]byte("ab"), "ab"},
		{big.NewRat(-1, 8), "-0.125"},
		{big.NewRat(1, 3), "0.33333333333333333333"},
		{big.NewRat(5, 1), "5"},
		{[]any{int32(1), map[string]any{"t": time.UnixMilli(2).UTC()}}, []any{int32(1), map[string]any{"t": int64(2)}}},
	}
	for _, tc := range cases {
		if got := codecs.ToJSON(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ToJSON(%#v) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestSubject(t *testing.T) {
	s := codecs.NewSchemas()
	ue := mustParse(t, s, userEventV2(t))
	str := mustParse(t, s, `"string"`)
	cases := []struct {
		strategy codecs.SubjectStrategy
		key      bool
		want     string
	}{
		{codecs.TopicNameStrategy, false, "user-topic-value"},
		{codecs.TopicNameStrategy, true, "user-topic-key"},
		{codecs.RecordNameStrategy, false, "com.example.events.UserEvent"},
		{codecs.TopicRecordNameStrategy, false, "user-topic-com.example.events.UserEvent"},
	}
	for _, tc := range cases {
		if got := codecs.Subject(tc.strategy, "user-topic", tc.key, ue); got != tc.want {
			t.Errorf("%v key=%v: %q, want %q", tc.strategy, tc.key, got, tc.want)
		}
	}
	if got := codecs.Subject(codecs.RecordNameStrategy, "t", true, str); got != "t-key" {
		t.Errorf("unnamed schema: %q", got)
	}
}

func TestFrameSchemaID(t *testing.T) {
	if id, ok := codecs.FrameSchemaID([]byte{0, 0, 0, 1, 2}); !ok || id != 258 {
		t.Fatalf("got %d %v", id, ok)
	}
	if id, ok := codecs.FrameSchemaID([]byte{0, 0x7f, 0xff, 0xff, 0xff, 9}); !ok || id != 1<<31-1 {
		t.Fatalf("got %d %v", id, ok)
	}
}

func TestSchemasParseFile(t *testing.T) {
	s := codecs.NewSchemas()
	sch, err := s.ParseFile("../schemas/user_stats.avsc")
	if err != nil {
		t.Fatal(err)
	}
	if codecs.Subject(codecs.RecordNameStrategy, "x", false, sch) != "com.example.events.UserStats" {
		t.Fatal("wrong schema")
	}
	bad := filepath.Join(t.TempDir(), "broken.avsc")
	if err := os.WriteFile(bad, []byte(`{"type":"record","name":"B","fields":[{"name":"a","type":"nope"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ParseFile(bad); err == nil || !strings.Contains(err.Error(), "broken.avsc") {
		t.Fatalf("err %v: want it to name the file", err)
	}
	if _, err := s.ParseFile(filepath.Join(t.TempDir(), "missing.avsc")); err == nil || !strings.Contains(err.Error(), "missing.avsc") {
		t.Fatalf("err %v: want it to name the file", err)
	}
	// A later schema may refer to an earlier named type.
	if _, err := s.Parse(`{"type":"record","name":"W","namespace":"com.example.events","fields":[{"name":"s","type":"UserStats"}]}`); err != nil {
		t.Fatal(err)
	}
}

var (
	_ goka.Codec = codecs.Bytes{}
	_ goka.Codec = codecs.String{}
	_ goka.Codec = codecs.JSON{}
	_ goka.Codec = (*codecs.Avro)(nil)
)
