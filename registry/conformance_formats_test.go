package registry_test

import (
	"testing"

	"github.com/sluicehq/sluice/internal/schemafmt"
)

// JSON Schema and Protobuf schemas of the format tests.
const (
	jsonPerson        = `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}}}`
	jsonPersonSpaced  = "{ \"properties\": {\"age\": {\"type\": \"integer\"}, \"name\": {\"type\": \"string\"}},\n  \"type\": \"object\" }"
	protoPerson       = `syntax = "proto3"; package people; message Person { string name = 1; int32 age = 2; }`
	protoPersonSpaced = "syntax = \"proto3\";\n// a person\npackage people;\n\nmessage Person {\n  string name = 1;  // the name\n  int32 age = 2;\n}\n"
)

// TestHTTPSchemaTypes registers JSON Schema and Protobuf schemas next to Avro
// and reads schemaType back on every endpoint, on every store.
func TestHTTPSchemaTypes(t *testing.T) {
	jp, pp := jsonString(jsonPerson), jsonString(protoPerson)
	asJSON, asProto := `,"schemaType":"JSON"`, `,"schemaType":"PROTOBUF"`
	steps := []httpStep{
		{method: "GET", path: "/schemas/types", status: 200, want: `["JSON","PROTOBUF","AVRO"]`},
		{method: "POST", path: "/subjects/j/versions", body: schemaBody(jsonPerson, asJSON), status: 200, want: `{"id":1}`},
		{method: "POST", path: "/subjects/p/versions", body: schemaBody(protoPerson, asProto), status: 200, want: `{"id":2}`},
		{method: "POST", path: "/subjects/a/versions", body: schemaBody(`"string"`), status: 200, want: `{"id":3}`},
		// Identical schemas keep their id: whitespace, key order and comments do not matter.
		{method: "POST", path: "/subjects/j/versions", body: schemaBody(jsonPersonSpaced, asJSON), status: 200, want: `{"id":1}`},
		{method: "POST", path: "/subjects/p/versions", body: schemaBody(protoPersonSpaced, asProto), status: 200, want: `{"id":2}`},
		{method: "POST", path: "/subjects/p2/versions", body: schemaBody(protoPersonSpaced, `,"schemaType":"protobuf"`), status: 200, want: `{"id":2}`},
		// A schema of another type is never compatible.
		{method: "POST", path: "/subjects/a/versions", body: schemaBody(`{"type":"string"}`, asJSON), status: 409, code: 409},
		{method: "POST", path: "/subjects/j2/versions", body: schemaBody(`{"type":"string"}`, asJSON), status: 200, want: `{"id":4}`},
		{method: "GET", path: "/schemas/ids/1", status: 200, want: `{"schemaType":"JSON","schema":` + jp + `}`},
		{method: "GET", path: "/schemas/ids/2", status: 200, want: `{"schemaType":"PROTOBUF","schema":` + pp + `}`},
		{method: "GET", path: "/schemas/ids/3", status: 200, want: `{"schema":"\"string\""}`},
		{method: "GET", path: "/schemas/ids/2/schema", status: 200},
		{method: "GET", path: "/subjects/j/versions/1", status: 200, want: `{"subject":"j","version":1,"id":1,"schemaType":"JSON","schema":` + jp + `}`},
		{method: "GET", path: "/subjects/p/versions/latest", status: 200, want: `{"subject":"p","version":1,"id":2,"schemaType":"PROTOBUF","schema":` + pp + `}`},
		{method: "GET", path: "/schemas/ids/2/subjects", status: 200, want: `["p","p2"]`},
		// Lookup matches on type and normal form.
		{method: "POST", path: "/subjects/p", body: schemaBody(protoPersonSpaced, asProto), status: 200, want: `{"subject":"p","version":1,"id":2,"schemaType":"PROTOBUF","schema":` + pp + `}`},
		{method: "POST", path: "/subjects/j", body: schemaBody(jsonPersonSpaced, asJSON), status: 200, want: `{"subject":"j","version":1,"id":1,"schemaType":"JSON","schema":` + jp + `}`},
		{method: "POST", path: "/subjects/j", body: schemaBody(jsonPerson), status: 422, code: 42201},
		{method: "POST", path: "/subjects/p", body: schemaBody(`syntax = "proto3"; package people; message Person { string name = 1; }`, asProto), status: 404, code: 40403},
		// Compatibility of another type: never.
		{method: "POST", path: "/compatibility/subjects/p/versions/latest?verbose=true", body: schemaBody(jsonPerson, asJSON), status: 200, contains: "different schema types"},
		// Deletes.
		{method: "DELETE", path: "/subjects/p2", status: 200, want: `[1]`},
		{method: "DELETE", path: "/subjects/p2?permanent=true", status: 200, want: `[1]`},
		{method: "GET", path: "/schemas/ids/2/subjects", status: 200, want: `["p"]`},
	}
	eachStore(t, func(t *testing.T, url string) { runSteps(t, url, steps) })
}

// TestHTTPProtobufSerialized registers a Protobuf schema in Confluent's
// serialized form (a base64 FileDescriptorProto, as Confluent's Python
// client registers it) and reads schemas back in it with ?format=serialized.
func TestHTTPProtobufSerialized(t *testing.T) {
	fd, err := schemafmt.CompileProtobuf(protoUser, map[string]string{"common/address.proto": protoAddress})
	if err != nil {
		t.Fatal(err)
	}
	ser, err := schemafmt.ProtobufSerialized(fd)
	if err != nil {
		t.Fatal(err)
	}
	asProto := `,"schemaType":"PROTOBUF"`
	// As the Python client names them: the import's subject is its path, escaped in the URL.
	ref := `,"references":[{"name":"common/address.proto","subject":"common/address.proto","version":1}]`
	steps := []httpStep{
		{method: "POST", path: "/subjects/common%2Faddress.proto/versions", body: schemaBody(protoAddress, asProto), status: 200, want: `{"id":1}`},
		{method: "POST", path: "/subjects/user/versions", body: schemaBody(ser, asProto, ref), status: 200, want: `{"id":2}`},
		// The same schema as .proto text is the same schema.
		{method: "POST", path: "/subjects/user/versions", body: schemaBody(protoUser, asProto, ref), status: 200, want: `{"id":2}`},
		{method: "GET", path: "/schemas/ids/2?format=serialized", status: 200, want: `{"schemaType":"PROTOBUF","references":[{"name":"common/address.proto","subject":"common/address.proto","version":1}],"schema":` + jsonString(ser) + `}`},
		{method: "GET", path: "/subjects/common%2Faddress.proto/versions/1/referencedby", status: 200, want: `[2]`},
		{method: "GET", path: "/subjects/user/versions/1?format=serialized", status: 200, contains: jsonString(ser)},
		{method: "GET", path: "/subjects/user/versions/1/schema?format=serialized", status: 200},
		// Any other type or format: the text as registered.
		{method: "GET", path: "/schemas/ids/1", status: 200, want: `{"schemaType":"PROTOBUF","schema":` + jsonString(protoAddress) + `}`},
		{method: "POST", path: "/subjects/j/versions", body: schemaBody(jsonPerson, `,"schemaType":"JSON"`), status: 200, want: `{"id":3}`},
		{method: "GET", path: "/schemas/ids/3?format=serialized", status: 200, want: `{"schemaType":"JSON","schema":` + jsonString(jsonPerson) + `}`},
	}
	eachStore(t, func(t *testing.T, url string) { runSteps(t, url, steps) })
}
