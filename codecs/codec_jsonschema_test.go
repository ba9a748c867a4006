package codecs_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/codecs"
)

func jsonSchemaText(t testing.TB) string {
	return readFile(t, "../testdata/schemas/user_event.schema.json")
}

func mustJSONSchema(t testing.TB, client codecs.TypedRegistry, text string, opts ...codecs.AvroOption) *codecs.JSONSchema {
	t.Helper()
	doc, err := codecs.ParseJSONSchema(text)
	if err != nil {
		t.Fatal(err)
	}
	c, err := codecs.NewJSONSchema(client, doc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestJSONSchemaRoundTrip(t *testing.T) {
	reg := newTestRegistry(t).client()
	c := mustJSONSchema(t, reg, jsonSchemaText(t), codecs.WithSubjectName("user-json-value"))
	ts := time.UnixMilli(1_700_000_000_000)
	frame, err := c.Encode(map[string]any{"user_id": "u1", "event_type": "login", "amount": 0.0, "ts": ts, "country": nil,
		"device": map[string]any{"os": "linux", "version": int32(6)}})
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := codecs.FrameSchemaID(frame); !ok || id < 1 {
		t.Fatalf("frame %x has no schema id", frame)
	}
	if !strings.HasPrefix(string(frame[5:]), "{") {
		t.Fatalf("payload %q is not JSON text", frame[5:])
	}
	got, err := c.Decode(frame)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"user_id": "u1", "event_type": "login", "amount": int64(0), "ts": ts.UnixMilli(), "country": nil,
		"device": map[string]any{"os": "linux", "version": int64(6)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %#v, want %#v", got, want)
	}
}

func TestJSONSchemaViolationsNameThePointer(t *testing.T) {
	reg := newTestRegistry(t).client()
	ctx := context.Background()
	c := mustJSONSchema(t, reg, jsonSchemaText(t), codecs.WithSubjectName("user-json-value"))
	id, err := c.Register(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		payload string
		pointer string
	}{
		"wrong type":      {`{"user_id":"u","event_type":"e","amount":"1","ts":1}`, "/amount"},
		"below minimum":   {`{"user_id":"u","event_type":"e","amount":-1,"ts":1}`, "/amount"},
		"nested":          {`{"user_id":"u","event_type":"e","amount":1,"ts":1,"device":{"version":1.5}}`, "/device/version"},
		"array item":      {`{"user_id":"u","event_type":"e","amount":1,"ts":1,"tags":["a",2]}`, "/tags/1"},
		"missing":         {`{"user_id":"u","event_type":"e","amount":1}`, ""},
		"extra property":  {`{"user_id":"u","event_type":"e","amount":1,"ts":1,"x":1}`, ""},
		"not even a json": {`{"user_id":`, ""},
	} {
		frame := append([]byte{0, 0, 0, 0, byte(id)}, tc.payload...)
		_, err := c.DecodeContext(ctx, frame)
		if !errors.Is(err, codecs.ErrPoison) {
			t.Errorf("%s: %v, want poison", name, err)
			continue
		}
		var ce *codecs.Error
		if !errors.As(err, &ce) || ce.Op != "decode" || ce.SchemaID != id {
			t.Errorf("%s: %#v, want a decode error of schema %d", name, err, id)
		}
		var v *codecs.SchemaViolation
		if name == "not even a json" {
			if errors.As(err, &v) {
				t.Errorf("%s: reported as a violation: %v", name, err)
			}
			continue
		}
		if !errors.As(err, &v) || v.Pointer != tc.pointer || !strings.Contains(err.Error(), `"`+tc.pointer+`"`) {
			t.Errorf("%s: %v, want a violation at %q", name, err, tc.pointer)
		}
	}

	// Encode validates against the codec's own schema.
	_, err = c.EncodeContext(ctx, map[string]any{"user_id": "u", "event_type": "e", "amount": -3.0, "ts": 1})
	var v *codecs.SchemaViolation
	if !errors.Is(err, codecs.ErrPoison) || !errors.As(err, &v) || v.Pointer != "/amount" {
		t.Fatalf("encoding an invalid record: %v, want a poison violation at /amount", err)
	}
	if !strings.HasPrefix(err.Error(), "encode (poison") {
		t.Fatalf("encode error %q does not say encode", err)
	}
}

func TestJSONSchemaErrorsAreClassified(t *testing.T) {
	reg := newTestRegistry(t).client()
	ctx := context.Background()
	c := mustJSONSchema(t, reg, jsonSchemaText(t), codecs.WithSubjectName("j-value"))
	avroID, err := reg.Register(ctx, "avro-value", userEventV2(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, frame := range map[string][]byte{
		"nil":         nil,
		"short":       {0, 1},
		"magic":       {7, 0, 0, 0, 1, '{', '}'},
		"unknown id":  {0, 0, 0, 0x7f, 0, '{', '}'},
		"avro writer": {0, 0, 0, 0, byte(avroID), '{', '}'},
	} {
		if _, err := c.DecodeContext(ctx, frame); !errors.Is(err, codecs.ErrPoison) {
			t.Errorf("%s: %v, want poison", name, err)
		}
	}
	down := mustJSONSchema(t, newClient(t, "http://127.0.0.1:1", time.Second), jsonSchemaText(t), codecs.WithSubjectName("j-value"))
	if _, err := down.DecodeContext(ctx, []byte{0, 0, 0, 0, 1, '{', '}'}); !codecs.IsUnavailable(err) {
		t.Errorf("decode with the registry down: %v, want transient", err)
	}
	if _, err := down.EncodeContext(ctx, map[string]any{}); !codecs.IsUnavailable(err) {
		t.Errorf("encode with the registry down: %v, want transient", err)
	}
}

func TestParseJSONSchemaRejectsInvalid(t *testing.T) {
	for _, text := range []string{`{"type": 5}`, `{`, `{"$ref": "file:///etc/passwd"}`} {
		if _, err := codecs.ParseJSONSchema(text); err == nil {
			t.Errorf("%s: parsed", text)
		}
	}
}
