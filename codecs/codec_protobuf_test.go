package codecs_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/registry/regclient"
)

func protoText(t testing.TB) string {
	return readFile(t, "../testdata/schemas/user_event.proto")
}

func mustProto(t testing.TB, message string) *codecs.ProtoMessage {
	t.Helper()
	pm, err := codecs.ParseProto(protoText(t), message)
	if err != nil {
		t.Fatal(err)
	}
	return pm
}

func mustProtobuf(t testing.TB, client codecs.TypedRegistry, pm *codecs.ProtoMessage, opts ...codecs.AvroOption) *codecs.Protobuf {
	t.Helper()
	c, err := codecs.NewProtobuf(client, pm, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseProtoPicksMessages(t *testing.T) {
	for _, tc := range []struct {
		message string
		full    string
		index   []int
	}{
		{"", "com.example.events.UserEvent", []int{0}},
		{"UserEvent", "com.example.events.UserEvent", []int{0}},
		{"Envelope", "com.example.events.Envelope", []int{1}},
		{"com.example.events.Envelope", "com.example.events.Envelope", []int{1}},
		{"Envelope.Item", "com.example.events.Envelope.Item", []int{1, 0}},
	} {
		pm := mustProto(t, tc.message)
		if string(pm.Message.FullName()) != tc.full || !reflect.DeepEqual(pm.Index, tc.index) {
			t.Errorf("message %q: got %s %v, want %s %v", tc.message, pm.Message.FullName(), pm.Index, tc.full, tc.index)
		}
	}
	_, err := codecs.ParseProto(protoText(t), "Nope")
	if err == nil || !strings.Contains(err.Error(), "com.example.events.UserEvent") {
		t.Errorf("unknown message: %v, want the list of messages", err)
	}
	_, err = codecs.ParseProto("syntax = \"proto3\";\nmessage A { strin x = 1; }\n", "")
	if err == nil || !strings.Contains(err.Error(), "2:") {
		t.Errorf("bad proto: %v, want a line number", err)
	}
}

func TestProtobufRoundTrip(t *testing.T) {
	reg := newTestRegistry(t).client()
	ctx := context.Background()
	ts := time.UnixMilli(1_700_000_000_123).UTC()

	ev := mustProtobuf(t, reg, mustProto(t, "UserEvent"), codecs.WithSubjectName("user-proto-value"))
	in := map[string]any{"user_id": "u1", "event_type": "purchase", "amount": 12.5, "ts": ts}
	frame, err := ev.EncodeContext(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if frame[5] != 0 {
		t.Fatalf("first message: index array %x, want the single byte 0", frame[5])
	}
	got, err := ev.DecodeContext(ctx, frame)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"user_id": "u1", "event_type": "purchase", "amount": 12.5, "ts": ts, "country": nil}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %#v, want %#v", got, want)
	}

	env := mustProtobuf(t, reg, mustProto(t, "Envelope"), codecs.WithSubjectName("envelope-value"))
	in = map[string]any{
		"id":     "e1",
		"items":  []any{map[string]any{"sku": "a", "quantity": int64(2)}},
		"counts": map[string]any{"x": int32(3)},
		"kind":   "KIND_REFUND",
		"raw":    []byte{0, 1},
		"big":    int64(1 << 40),
		"number": int32(7),
	}
	frame, err = env.EncodeContext(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	// [1] is written as count 1, index 1: zigzag varints 0x02 0x02.
	if frame[5] != 2 || frame[6] != 2 {
		t.Fatalf("second message: index array %x, want 02 02", frame[5:7])
	}
	got, err = env.DecodeContext(ctx, frame)
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]any{
		"id":     "e1",
		"items":  []any{map[string]any{"sku": "a", "quantity": int64(2)}},
		"counts": map[string]any{"x": int32(3)},
		"kind":   "KIND_REFUND",
		"raw":    []byte{0, 1},
		"big":    int64(1 << 40),
		"name":   nil,
		"number": int32(7),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %#v, want %#v", got, want)
	}

	// A frame of one message type is poison to a codec of another.
	if _, err := ev.DecodeContext(ctx, frame); !errors.Is(err, codecs.ErrPoison) || !strings.Contains(err.Error(), "Envelope") {
		t.Fatalf("envelope read as a user event: %v", err)
	}
}

func TestProtobufNestedMessageIndex(t *testing.T) {
	reg := newTestRegistry(t).client()
	item := mustProtobuf(t, reg, mustProto(t, "Envelope.Item"), codecs.WithSubjectName("item-value"))
	frame, err := item.Encode(map[string]any{"sku": "s", "quantity": 1})
	if err != nil {
		t.Fatal(err)
	}
	// [1, 0]: count 2, then 1 and 0 (zigzag 04 02 00).
	if got := frame[5:8]; got[0] != 4 || got[1] != 2 || got[2] != 0 {
		t.Fatalf("index array %x, want 04 02 00", got)
	}
	v, err := item.Decode(frame)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v, map[string]any{"sku": "s", "quantity": int64(1)}) {
		t.Fatalf("decoded %#v", v)
	}
}

func TestProtobufErrorsAreClassified(t *testing.T) {
	tr := newTestRegistry(t)
	reg := tr.client()
	ctx := context.Background()
	c := mustProtobuf(t, reg, mustProto(t, "UserEvent"), codecs.WithSubjectName("p-value"))
	good, err := c.EncodeContext(ctx, map[string]any{"user_id": "u"})
	if err != nil {
		t.Fatal(err)
	}
	avroID, err := reg.Register(ctx, "avro-value", userEventV2(t))
	if err != nil {
		t.Fatal(err)
	}
	avroFrame := append([]byte{0, 0, 0, 0, byte(avroID)}, 0)
	for name, frame := range map[string][]byte{
		"nil":              nil,
		"short":            {0, 0, 0},
		"magic":            {1, 0, 0, 0, 1, 0},
		"unknown id":       {0, 0, 0, 0x7f, 0, 0},
		"avro writer":      avroFrame,
		"truncated index":  good[:5],
		"index past file":  append(append([]byte{}, good[:5]...), 2, 18),
		"corrupt payload":  append(append([]byte{}, good[:6]...), 0xff, 0xff),
		"huge index count": append(append([]byte{}, good[:5]...), 0xfe, 0x01),
	} {
		_, err := c.DecodeContext(ctx, frame)
		if !errors.Is(err, codecs.ErrPoison) {
			t.Errorf("%s: %v, want poison", name, err)
		}
	}
	for name, v := range map[string]any{
		"nil":           nil,
		"not a record":  "x",
		"unknown field": map[string]any{"user_idd": "u"},
		"wrong type":    map[string]any{"amount": "12"},
		"out of range":  map[string]any{"ts": "yesterday"},
	} {
		_, err := c.EncodeContext(ctx, v)
		if !errors.Is(err, codecs.ErrPoison) {
			t.Errorf("encode %s: %v, want poison", name, err)
		}
	}
	// An unreachable registry is transient.
	down := mustProtobuf(t, newClient(t, "http://127.0.0.1:1", time.Second), mustProto(t, ""), codecs.WithSubjectName("p-value"))
	if _, err := down.DecodeContext(ctx, good); !codecs.IsUnavailable(err) {
		t.Errorf("decode with the registry down: %v, want transient", err)
	}
	if _, err := down.EncodeContext(ctx, map[string]any{"user_id": "u"}); !codecs.IsUnavailable(err) {
		t.Errorf("encode with the registry down: %v, want transient", err)
	}
}

// A codec without a reader message decodes each frame as the message its
// indexes name in the writer schema, and refuses to encode.
func TestProtobufDecodeOnly(t *testing.T) {
	reg := newTestRegistry(t).client()
	env := mustProtobuf(t, reg, mustProto(t, "Envelope.Item"), codecs.WithSubjectName("item-value"))
	frame, err := env.Encode(map[string]any{"sku": "s", "quantity": 3})
	if err != nil {
		t.Fatal(err)
	}
	writers := mustProtobuf(t, reg, nil)
	v, err := writers.Decode(frame)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v, map[string]any{"sku": "s", "quantity": int64(3)}) {
		t.Fatalf("decoded %#v", v)
	}
	if _, err := writers.Encode(v); !errors.Is(err, codecs.ErrPoison) {
		t.Fatalf("decode-only encode: %v, want poison", err)
	}
}

// The Confluent Python client registers a Protobuf schema as a base64
// FileDescriptorProto; the codec reads frames written under such a schema.
func TestProtobufBase64WriterSchema(t *testing.T) {
	fake := &fakeTyped{schemas: map[int]regclient.Schema{}}
	pm := mustProto(t, "UserEvent")
	fake.schemas[9] = regclient.Schema{ID: 9, Type: regclient.TypeProtobuf, Text: codecs.ProtoDescriptorBase64(t, pm)}
	c := mustProtobuf(t, fake, pm)
	frame := []byte{0, 0, 0, 0, 9, 0, 0x0a, 0x01, 'u'} // user_id = "u"
	v, err := c.Decode(frame)
	if err != nil {
		t.Fatal(err)
	}
	if v.(map[string]any)["user_id"] != "u" {
		t.Fatalf("decoded %#v", v)
	}
}

// fakeTyped serves fixed schemas by id (registries' other answers are
// tested against sluice's registry).
type fakeTyped struct {
	schemas map[int]regclient.Schema
}

func (f *fakeTyped) SchemaByID(_ context.Context, id int) (regclient.Schema, error) {
	s, ok := f.schemas[id]
	if !ok {
		return regclient.Schema{}, &regclient.Error{StatusCode: 404, Code: regclient.CodeSchemaNotFound, Message: "not found"}
	}
	return s, nil
}

func (f *fakeTyped) SchemaByVersion(context.Context, string, int) (regclient.Schema, error) {
	return regclient.Schema{}, &regclient.Error{StatusCode: 404, Code: regclient.CodeSubjectNotFound, Message: "not found"}
}

func (f *fakeTyped) RegisterAs(context.Context, string, string, string) (int, error) {
	return 0, errors.New("fakeTyped registers nothing")
}

func (f *fakeTyped) LookupAs(context.Context, string, string, string) (int, int, error) {
	return 0, 0, errors.New("fakeTyped looks nothing up")
}
