package schemafmt_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/sluicehq/sluice/internal/schemafmt"
)

func TestCompileProtobuf(t *testing.T) {
	refs := map[string]string{"common/address.proto": `syntax = "proto3"; package common; message Address { string street = 1; }`}
	fd, err := schemafmt.CompileProtobuf(`syntax = "proto3"; package shop;
import "common/address.proto";
import "google/protobuf/timestamp.proto";
message Order { common.Address ship_to = 1; google.protobuf.Timestamp at = 2; message Line { string sku = 1; } repeated Line lines = 3; }`, refs)
	if err != nil {
		t.Fatal(err)
	}
	if fd.Path() != schemafmt.ProtobufRootFile || fd.Package() != "shop" || fd.Messages().Get(0).Name() != "Order" {
		t.Fatalf("compiled %s %s %v", fd.Path(), fd.Package(), fd.Messages().Get(0).FullName())
	}
	if f := fd.Messages().Get(0).Fields().ByName("ship_to"); f == nil || f.Message().FullName() != "common.Address" {
		t.Fatalf("ship_to = %v", f)
	}

	// Confluent's own imports need no reference.
	if _, err := schemafmt.CompileProtobuf(`syntax = "proto3"; import "confluent/meta.proto"; import "confluent/type/decimal.proto";
message Price { confluent.type.Decimal amount = 1 [(confluent.field_meta).doc = "the amount"]; }`, nil); err != nil {
		t.Fatalf("confluent imports: %v", err)
	}

	// The serialized form (what Confluent's Python client registers) compiles to the same schema.
	ser, err := schemafmt.ProtobufSerialized(fd)
	if err != nil {
		t.Fatal(err)
	}
	again, err := schemafmt.CompileProtobuf(ser, refs)
	if err != nil {
		t.Fatalf("compiling the serialized form: %v", err)
	}
	a, _ := schemafmt.ProtobufNormalForm(fd)
	b, _ := schemafmt.ProtobufNormalForm(again)
	if a != b {
		t.Fatal("the serialized form compiles to another normal form")
	}

	for _, c := range []struct{ text, want string }{
		{``, "empty schema"},
		{`syntax = "proto3"; message M { strin a = 1; }`, `schema.proto:1:32: field M.a: unknown type strin`},
		{`syntax = "proto3"; import "missing.proto"; message M {}`, `missing.proto`},
		{`syntax = "proto3"; message M {`, `schema.proto:1:`},
	} {
		_, err := schemafmt.CompileProtobuf(c.text, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CompileProtobuf(%q) = %v, want an error containing %q", c.text, err, c.want)
		}
	}
}

func TestCompileJSONSchema(t *testing.T) {
	refs := map[string]string{"address.json": `{"type":"object","properties":{"zip":{"type":"string"}},"required":["zip"]}`}
	for _, root := range []string{
		`{"type":"object","properties":{"addr":{"$ref":"address.json"}}}`,
		`{"$id":"https://example.com/schemas/user.json","type":"object","properties":{"addr":{"$ref":"address.json"}}}`,
	} {
		js, err := schemafmt.CompileJSONSchema(root, refs)
		if err != nil {
			t.Fatal(err)
		}
		if len(js.Docs) != 2 {
			t.Fatalf("docs %v", js.Docs)
		}
		ok, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"addr":{"zip":"1000"}}`))
		if err := js.Schema.Validate(ok); err != nil {
			t.Fatalf("valid payload: %v", err)
		}
		bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"addr":{"zip":1000}}`))
		var verr *jsonschema.ValidationError
		if err := js.Schema.Validate(bad); !errors.As(err, &verr) {
			t.Fatalf("invalid payload: %v", err)
		}
	}
	for _, c := range []struct{ text, want string }{
		{``, "empty schema"},
		{`{"type":`, "parsing json schema"},
		{`{"type":"objekt"}`, "at '/type'"},
		{`{"$ref":"https://example.com/elsewhere.json"}`, "not one of the schema's references"},
		{`{"$ref":"other.json"}`, "other.json"},
	} {
		_, err := schemafmt.CompileJSONSchema(c.text, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CompileJSONSchema(%q) = %v, want an error containing %q", c.text, err, c.want)
		}
	}
}

// TestCompileProtobufWithoutJSONNames: a serialized descriptor whose fields
// carry no json_name (Python's serialized_pb, what its ProtobufSerializer
// registers) compiles, with protoc's default JSON names.
func TestCompileProtobufWithoutJSONNames(t *testing.T) {
	fd, err := schemafmt.CompileProtobuf(`syntax = "proto3"; package shop;
message Order { string order_id = 1; int64 seat_count_2 = 2; message Line { string sku_code = 1; } repeated Line lines = 3; }`, nil)
	if err != nil {
		t.Fatal(err)
	}
	fdp := schemafmt.ProtobufFileDescriptorProto(fd)
	var strip func(ms []*descriptorpb.DescriptorProto)
	strip = func(ms []*descriptorpb.DescriptorProto) {
		for _, m := range ms {
			for _, f := range m.GetField() {
				f.JsonName = nil
			}
			strip(m.GetNestedType())
		}
	}
	strip(fdp.GetMessageType())
	b, err := proto.Marshal(fdp)
	if err != nil {
		t.Fatal(err)
	}
	again, err := schemafmt.CompileProtobuf(base64.StdEncoding.EncodeToString(b), nil)
	if err != nil {
		t.Fatalf("compiling a descriptor without JSON names: %v", err)
	}
	order := again.Messages().ByName("Order")
	for name, want := range map[string]string{"order_id": "orderId", "seat_count_2": "seatCount2"} {
		if got := order.Fields().ByName(protoreflect.Name(name)).JSONName(); got != want {
			t.Errorf("JSON name of %s = %q, want %q", name, got, want)
		}
	}
	if got := order.Messages().ByName("Line").Fields().ByName("sku_code").JSONName(); got != "skuCode" {
		t.Errorf("JSON name of Line.sku_code = %q, want skuCode", got)
	}
}
