package codecs_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sluicehq/sluice/codecs"
)

// checkClassified fails unless err is a *codecs.Error, poison or transient,
// carrying the frame's schema id (0 for a frame without a valid header).
func checkClassified(t *testing.T, frame []byte, err error) {
	t.Helper()
	if !errors.Is(err, codecs.ErrPoison) && !errors.Is(err, codecs.ErrUnavailable) {
		t.Fatalf("unclassified error: %v", err)
	}
	var ce *codecs.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error is not a *codecs.Error: %v", err)
	}
	id, idOK := codecs.FrameSchemaID(frame)
	if idOK && ce.SchemaID != id || !idOK && ce.SchemaID != 0 {
		t.Fatalf("error schema id %d, frame id %d (%v)", ce.SchemaID, id, idOK)
	}
}

// FuzzProtobufDecode: no frame panics the Protobuf decoder, every error is
// classified, and whatever decodes encodes and decodes again. Schema 1 is
// the test .proto (UserEvent first, Envelope second), registered by the
// codec itself; schema 2 is an Avro schema.
func FuzzProtobufDecode(f *testing.F) {
	reg := newTestRegistry(f).client()
	ctx := context.Background()
	ev := mustProtobuf(f, reg, mustProto(f, "UserEvent"), codecs.WithSubjectName("fuzz-proto-value"))
	env := mustProtobuf(f, reg, mustProto(f, "Envelope"), codecs.WithSubjectName("fuzz-proto-value"))
	if _, err := reg.Register(ctx, "fuzz-avro-value", userEventV2(f)); err != nil {
		f.Fatal(err)
	}
	for _, v := range []map[string]any{
		{"user_id": "u", "amount": 1.5, "country": "NL"},
		{"user_id": "", "event_type": "login"},
	} {
		frame, err := ev.Encode(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame)
	}
	frame, err := env.Encode(map[string]any{"id": "e", "items": []any{map[string]any{"sku": "s"}}, "counts": map[string]any{"a": 1}, "kind": "KIND_ORDER", "name": "n"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(frame)
	f.Add([]byte{0, 0, 0, 0, 2, 0})
	f.Add([]byte{0, 0, 0, 0, 1, 4, 2, 0, 0x0a, 0x01, 'x'})
	f.Fuzz(func(t *testing.T, frame []byte) {
		for _, c := range []*codecs.Protobuf{ev, env} {
			v, err := c.Decode(frame)
			if err != nil {
				checkClassified(t, frame, err)
				continue
			}
			again, err := c.Encode(v)
			if err != nil {
				t.Fatalf("re-encoding %#v: %v", v, err)
			}
			if _, err := c.Decode(again); err != nil {
				t.Fatalf("decoding the re-encoded value: %v", err)
			}
		}
	})
}

// FuzzJSONSchemaDecode: no frame panics the JSON Schema decoder, every
// error is classified, and whatever decodes encodes and decodes again.
func FuzzJSONSchemaDecode(f *testing.F) {
	reg := newTestRegistry(f).client()
	c := mustJSONSchema(f, reg, jsonSchemaText(f), codecs.WithSubjectName("fuzz-json-value"))
	id, err := c.Register(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	head := []byte{0, 0, 0, 0, byte(id)}
	for _, payload := range []string{
		`{"user_id":"u","event_type":"e","amount":1,"ts":1}`,
		`{"user_id":"u","event_type":"e","amount":1.25,"ts":1,"tags":["a"],"device":{"os":"x","version":2},"country":null}`,
		`{"user_id":"u","event_type":"e","amount":-1,"ts":1}`,
		`[1,2]`, `"x"`, `{"a":`,
	} {
		f.Add(append(append([]byte{}, head...), payload...))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		v, err := c.Decode(frame)
		if err != nil {
			checkClassified(t, frame, err)
			return
		}
		again, err := c.Encode(v)
		if err != nil {
			t.Fatalf("re-encoding %#v: %v", v, err)
		}
		if _, err := c.Decode(again); err != nil {
			t.Fatalf("decoding the re-encoded value: %v", err)
		}
	})
}
