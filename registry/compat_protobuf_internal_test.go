package registry

import (
	"testing"

	"github.com/sluicehq/sluice/internal/schemafmt"
)

// p3 and p2 are .proto files of the given body, in package test.
func p3(body string) string { return `syntax = "proto3"; package test; ` + body }
func p2(body string) string { return `syntax = "proto2"; package test; ` + body }

// TestProtobufCompatibilityRules checks each rule of Confluent's protobuf
// SchemaDiff in both directions; in each, all differences of the change must be
// among Confluent's SchemaDiff.COMPATIBLE_CHANGES for the reader to read the writer.
func TestProtobufCompatibilityRules(t *testing.T) {
	addrV1 := `syntax = "proto3"; package common; message Address { string street = 1; }`
	addrV2 := `syntax = "proto3"; package common; message Address { string street = 1; string city = 2; }`
	addrBad := `syntax = "proto3"; package common; message Address { int64 street = 1; }`
	user := p3(`import "common/address.proto"; message User { common.Address address = 1; }`)
	rows := []compatRow{
		{name: "identical but for comments and layout", cite: "no difference",
			old: p3(`message M { string a = 1; }`), new: p3("// M\nmessage M {\n  string a = 1; // a\n}\n"), backward: true, forward: true},

		// Fields.
		{name: "field added", cite: "FIELD_ADDED compatible; reversed, FIELD_REMOVED compatible",
			old: p3(`message M { string a = 1; }`), new: p3(`message M { string a = 1; int32 b = 2; }`), backward: true, forward: true},
		{name: "field removed", cite: "FIELD_REMOVED compatible",
			old: p3(`message M { string a = 1; int32 b = 2; }`), new: p3(`message M { string a = 1; reserved 2; }`), backward: true, forward: true},
		{name: "field renamed", cite: "FIELD_NAME_CHANGED compatible (fields are matched by number)",
			old: p3(`message M { string a = 1; }`), new: p3(`message M { string b = 1; }`), backward: true, forward: true},
		{name: "field number changed", cite: "matched by number: FIELD_REMOVED and FIELD_ADDED, both compatible",
			old: p3(`message M { string a = 1; }`), new: p3(`message M { string a = 2; }`), backward: true, forward: true},
		{name: "field number reused with another type", cite: "FIELD_SCALAR_KIND_CHANGED incompatible",
			old: p3(`message M { string a = 1; }`), new: p3(`message M { int32 b = 1; }`), backward: false, forward: false},
		{name: "int32 to int64", cite: "same scalar kind GENERAL_NUMBER (int32, int64, uint32, uint64, bool, enum): compatible",
			old: p3(`message M { int32 a = 1; }`), new: p3(`message M { int64 a = 1; }`), backward: true, forward: true},
		{name: "int32 to bool", cite: "same scalar kind GENERAL_NUMBER: compatible",
			old: p3(`message M { int32 a = 1; }`), new: p3(`message M { bool a = 1; }`), backward: true, forward: true},
		{name: "int32 to sint32", cite: "FIELD_SCALAR_KIND_CHANGED incompatible (GENERAL_NUMBER to SIGNED_NUMBER)",
			old: p3(`message M { int32 a = 1; }`), new: p3(`message M { sint32 a = 1; }`), backward: false, forward: false},
		{name: "fixed32 to sfixed32", cite: "same scalar kind FIXED32: compatible",
			old: p3(`message M { fixed32 a = 1; }`), new: p3(`message M { sfixed32 a = 1; }`), backward: true, forward: true},
		{name: "float to double", cite: "FIELD_SCALAR_KIND_CHANGED incompatible (FLOAT to DOUBLE)",
			old: p3(`message M { float a = 1; }`), new: p3(`message M { double a = 1; }`), backward: false, forward: false},
		{name: "string to bytes", cite: "same scalar kind STRING_OR_BYTES: compatible",
			old: p3(`message M { string a = 1; }`), new: p3(`message M { bytes a = 1; }`), backward: true, forward: true},
		{name: "enum to int32", cite: "an enum is of scalar kind GENERAL_NUMBER: compatible",
			old: p3(`enum E { E0 = 0; } message M { E a = 1; }`), new: p3(`enum E { E0 = 0; } message M { int32 a = 1; }`), backward: true, forward: true},
		{name: "scalar to message", cite: "FIELD_KIND_CHANGED incompatible",
			old: p3(`message N { string x = 1; } message M { string a = 1; }`), new: p3(`message N { string x = 1; } message M { N a = 1; }`), backward: false, forward: false},
		{name: "message to map", cite: "FIELD_KIND_CHANGED incompatible",
			old: p3(`message N { string x = 1; } message M { N a = 1; }`), new: p3(`message N { string x = 1; } message M { map<string, string> a = 1; }`), backward: false, forward: false},
		{name: "map value type changed", cite: "FIELD_SCALAR_KIND_CHANGED incompatible (map value)",
			old: p3(`message M { map<string, int32> a = 1; }`), new: p3(`message M { map<string, string> a = 1; }`), backward: false, forward: false},
		{name: "proto2 optional numeric made repeated", cite: "FIELD_NUMERIC_LABEL_CHANGED incompatible",
			old: p2(`message M { optional int32 a = 1; }`), new: p2(`message M { repeated int32 a = 1; }`), backward: false, forward: false},
		{name: "proto2 optional string made repeated", cite: "FIELD_STRING_OR_BYTES_LABEL_CHANGED compatible",
			old: p2(`message M { optional string a = 1; }`), new: p2(`message M { repeated string a = 1; }`), backward: true, forward: true},
		{name: "proto2 required field added", cite: "REQUIRED_FIELD_ADDED incompatible; reversed, REQUIRED_FIELD_REMOVED incompatible",
			old: p2(`message M { optional string a = 1; }`), new: p2(`message M { optional string a = 1; required string b = 2; }`), backward: false, forward: false},

		// Messages.
		{name: "message renamed", cite: "MESSAGE_REMOVED incompatible (messages are matched by name)",
			old: p3(`message Person { string name = 1; }`), new: p3(`message People { string name = 1; }`), backward: false, forward: false},
		{name: "message added", cite: "MESSAGE_ADDED compatible; reversed, MESSAGE_REMOVED incompatible",
			old: p3(`message A { string a = 1; }`), new: p3(`message A { string a = 1; } message B { string b = 1; }`), backward: true, forward: false},
		{name: "messages reordered", cite: "MESSAGE_MOVED compatible",
			old: p3(`message A { string a = 1; } message B { string b = 1; }`), new: p3(`message B { string b = 1; } message A { string a = 1; }`), backward: true, forward: true},
		{name: "field's message type renamed", cite: "FIELD_NAMED_TYPE_CHANGED incompatible",
			old: p3(`message A { string a = 1; } message M { A f = 1; }`), new: p3(`message A { string a = 1; } message B { string a = 1; } message M { B f = 1; }`), backward: false, forward: false},
		{name: "nested message field changed", cite: "FIELD_SCALAR_KIND_CHANGED incompatible in a nested message",
			old: p3(`message M { message N { string x = 1; } N n = 1; }`), new: p3(`message M { message N { double x = 1; } N n = 1; }`), backward: false, forward: false},
		{name: "package changed", cite: "PACKAGE_CHANGED incompatible",
			old: `syntax = "proto3"; package a; message M { string a = 1; }`, new: `syntax = "proto3"; package b; message M { string a = 1; }`, backward: false, forward: false},
		{name: "recursive message unchanged", cite: "Context.enterSchema: a message pair is compared once",
			old: p3(`message Node { Node next = 1; string v = 2; }`), new: p3(`message Node { Node next = 1; string v = 2; }`), backward: true, forward: true},

		// Enums.
		{name: "enum value added and removed", cite: "ENUM_CONST_ADDED and ENUM_CONST_REMOVED compatible",
			old: p3(`enum E { A = 0; B = 1; } message M { E e = 1; }`), new: p3(`enum E { A = 0; C = 2; } message M { E e = 1; }`), backward: true, forward: true},
		{name: "enum removed", cite: "ENUM_REMOVED compatible",
			old: p3(`enum E { A = 0; } message M { string a = 1; }`), new: p3(`message M { string a = 1; }`), backward: true, forward: true},

		// Oneofs.
		{name: "field moved into a new oneof", cite: "ONEOF_ADDED and ONEOF_FIELD_ADDED compatible; reversed, ONEOF_FIELD_REMOVED incompatible (b is dropped, a survives)",
			old: p3(`message M { string a = 1; }`), new: p3(`message M { oneof o { string a = 1; int32 b = 2; } }`), backward: true, forward: false},
		{name: "oneof field moved to top level", cite: "ONEOF_FIELD_MOVED_TO_TOP_LEVEL and ONEOF_REMOVED compatible",
			old: p3(`message M { oneof o { string a = 1; } }`), new: p3(`message M { string a = 1; }`), backward: true, forward: true},
		{name: "oneof deleted whole", cite: "ONEOF_REMOVED compatible when no member survives: no ONEOF_FIELD_REMOVED",
			old: p3(`message M { string x = 9; oneof o { string a = 1; int32 b = 2; } }`), new: p3(`message M { string x = 9; }`), backward: true, forward: true},
		{name: "oneof renamed while dropping a member", cite: "ONEOF_FIELD_REMOVED incompatible (a member survives elsewhere)",
			old: p3(`message M { oneof g { string a = 1; int32 b = 2; } }`), new: p3(`message M { oneof g2 { string a = 1; } }`), backward: false, forward: true},
		{name: "field moved between two oneofs", cite: "FIELD_MOVED_TO_EXISTING_ONEOF incompatible (fields of two oneofs made mutually exclusive)",
			old: p3(`message M { oneof a { string x = 1; } oneof b { string y = 2; } }`), new: p3(`message M { oneof b { string x = 1; string y = 2; } }`), backward: false, forward: true},
		{name: "two fields moved into one oneof", cite: "MULTIPLE_FIELDS_MOVED_TO_ONEOF incompatible; reversed, ONEOF_REMOVED and FIELD_ADDED compatible",
			old: p3(`message M { string a = 1; string b = 2; }`), new: p3(`message M { oneof o { string a = 1; string b = 2; } }`), backward: false, forward: true},
		{name: "field moved into an existing oneof", cite: "FIELD_MOVED_TO_EXISTING_ONEOF incompatible",
			old: p3(`message M { string a = 1; oneof o { string b = 2; } }`), new: p3(`message M { oneof o { string a = 1; string b = 2; } }`), backward: false, forward: true},
		{name: "oneof field removed", cite: "ONEOF_FIELD_REMOVED incompatible; reversed, ONEOF_FIELD_ADDED compatible",
			old: p3(`message M { oneof o { string a = 1; string b = 2; } }`), new: p3(`message M { oneof o { string a = 1; } }`), backward: false, forward: true},
		{name: "proto3 optional field added", cite: "FIELD_ADDED compatible (a proto3 optional's synthetic oneof is no oneof)",
			old: p3(`message M { string a = 1; }`), new: p3(`message M { string a = 1; optional string b = 2; }`), backward: true, forward: true},

		// References (imports).
		{name: "imported message gained a field", cite: "FIELD_ADDED compatible inside a referenced message",
			old: user, oldRefs: map[string]string{"common/address.proto": addrV1},
			new: user, newRefs: map[string]string{"common/address.proto": addrV2}, backward: true, forward: true},
		{name: "imported message's field changed kind", cite: "FIELD_SCALAR_KIND_CHANGED then FIELD_NAMED_TYPE_CHANGED incompatible",
			old: user, oldRefs: map[string]string{"common/address.proto": addrV1},
			new: user, newRefs: map[string]string{"common/address.proto": addrBad}, backward: false, forward: false},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			old, err := schemafmt.CompileProtobuf(r.old, r.oldRefs)
			if err != nil {
				t.Fatalf("old schema: %v", err)
			}
			nw, err := schemafmt.CompileProtobuf(r.new, r.newRefs)
			if err != nil {
				t.Fatalf("new schema: %v", err)
			}
			if errs := protobufReaderErrors(nw, old); (len(errs) == 0) != r.backward {
				t.Errorf("backward (new reads old) = %v, want %v (%s); differences: %v", len(errs) == 0, r.backward, r.cite, errs)
			}
			if errs := protobufReaderErrors(old, nw); (len(errs) == 0) != r.forward {
				t.Errorf("forward (old reads new) = %v, want %v (%s); differences: %v", len(errs) == 0, r.forward, r.cite, errs)
			}
		})
	}
}
