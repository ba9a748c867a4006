package registry_test

import (
	"testing"
)

// Schemas of the reference tests: an address type of each format, and a
// user type referring to it by the name each format uses.
const (
	avroAddress  = `{"type":"record","name":"Address","namespace":"common","fields":[{"name":"street","type":"string"}]}`
	avroUser     = `{"type":"record","name":"User","fields":[{"name":"address","type":"common.Address"}]}`
	jsonAddress  = `{"type":"object","properties":{"street":{"type":"string"}}}`
	jsonUser     = `{"type":"object","properties":{"address":{"$ref":"address.json"}}}`
	protoAddress = `syntax = "proto3"; package common; message Address { string street = 1; }`
	protoUser    = `syntax = "proto3"; import "common/address.proto"; message User { common.Address address = 1; }`
)

// TestHTTPReferences registers, reads, looks up and deletes schemas with
// references in all three formats, on every store.
func TestHTTPReferences(t *testing.T) {
	asJSON, asProto := `,"schemaType":"JSON"`, `,"schemaType":"PROTOBUF"`
	avroRef := `,"references":[{"name":"common.Address","subject":"addr","version":1}]`
	jsonRef := `,"references":[{"name":"address.json","subject":"jaddr","version":1}]`
	protoRef := `,"references":[{"name":"common/address.proto","subject":"paddr","version":1}]`
	steps := []httpStep{
		{method: "POST", path: "/subjects/addr/versions", body: schemaBody(avroAddress), status: 200, want: `{"id":1}`},
		{method: "POST", path: "/subjects/jaddr/versions", body: schemaBody(jsonAddress, asJSON), status: 200, want: `{"id":2}`},
		{method: "POST", path: "/subjects/paddr/versions", body: schemaBody(protoAddress, asProto), status: 200, want: `{"id":3}`},

		// Without their references the schemas do not parse; with a reference to nothing they are refused.
		{method: "POST", path: "/subjects/user/versions", body: schemaBody(avroUser), status: 422, code: 42201, contains: "common.Address"},
		{method: "POST", path: "/subjects/juser/versions", body: schemaBody(jsonUser, asJSON), status: 422, code: 42201, contains: "address.json"},
		{method: "POST", path: "/subjects/puser/versions", body: schemaBody(protoUser, asProto), status: 422, code: 42201, contains: "common/address.proto"},
		{method: "POST", path: "/subjects/puser/versions", body: schemaBody(protoUser, asProto, `,"references":[{"name":"common/address.proto","subject":"paddr","version":2}]`),
			status: 422, code: 42201, contains: `version 2 not found`},
		{method: "POST", path: "/subjects/puser/versions", body: schemaBody(protoUser, asProto, `,"references":[{"name":"common/address.proto","subject":"nope","version":1}]`),
			status: 422, code: 42201, contains: `nope`},
		{method: "POST", path: "/subjects/puser/versions", body: schemaBody(protoUser, asProto, `,"references":[{"name":"common/address.proto","subject":"jaddr","version":1}]`),
			status: 422, code: 42201, contains: "is JSON, not PROTOBUF"},

		{method: "POST", path: "/subjects/user/versions", body: schemaBody(avroUser, avroRef), status: 200, want: `{"id":4}`},
		{method: "POST", path: "/subjects/juser/versions", body: schemaBody(jsonUser, asJSON, jsonRef), status: 200, want: `{"id":5}`},
		{method: "POST", path: "/subjects/puser/versions", body: schemaBody(protoUser, asProto, protoRef), status: 200, want: `{"id":6}`},
		// Same schema, same references: same id, here and under another subject.
		{method: "POST", path: "/subjects/puser/versions", body: schemaBody(protoUser, asProto, protoRef), status: 200, want: `{"id":6}`},
		{method: "POST", path: "/subjects/puser2/versions", body: schemaBody(protoUser, asProto, protoRef), status: 200, want: `{"id":6}`},
		{method: "POST", path: "/subjects/puser", body: schemaBody(protoUser, asProto, protoRef), status: 200,
			want: `{"subject":"puser","version":1,"id":6,"schemaType":"PROTOBUF","references":[{"name":"common/address.proto","subject":"paddr","version":1}],"schema":` + jsonString(protoUser) + `}`},

		// References are returned on read.
		{method: "GET", path: "/schemas/ids/4", status: 200,
			want: `{"references":[{"name":"common.Address","subject":"addr","version":1}],"schema":` + jsonString(avroUser) + `}`},
		{method: "GET", path: "/schemas/ids/5", status: 200,
			want: `{"schemaType":"JSON","references":[{"name":"address.json","subject":"jaddr","version":1}],"schema":` + jsonString(jsonUser) + `}`},
		{method: "GET", path: "/subjects/puser/versions/1", status: 200,
			want: `{"subject":"puser","version":1,"id":6,"schemaType":"PROTOBUF","references":[{"name":"common/address.proto","subject":"paddr","version":1}],"schema":` + jsonString(protoUser) + `}`},
		{method: "GET", path: "/subjects/addr/versions/1/referencedby", status: 200, want: `[4]`},
		{method: "GET", path: "/subjects/jaddr/versions/latest/referencedby", status: 200, want: `[5]`},
		{method: "GET", path: "/subjects/paddr/versions/1/referencedby", status: 200, want: `[6]`},
		{method: "GET", path: "/subjects/puser/versions/1/referencedby", status: 200, want: `[]`},

		// The same schema with other references is another schema.
		{method: "PUT", path: "/config/paddr", body: `{"compatibility":"NONE"}`, status: 200},
		{method: "POST", path: "/subjects/paddr/versions", body: schemaBody(`syntax = "proto3"; package common; message Address { string street = 1; string city = 2; }`, asProto), status: 200, want: `{"id":7}`},
		{method: "POST", path: "/subjects/puser/versions", body: schemaBody(protoUser, asProto, `,"references":[{"name":"common/address.proto","subject":"paddr","version":2}]`), status: 200, want: `{"id":8}`},

		// A referenced version cannot be deleted (42206), softly or permanently, nor its subject.
		{method: "DELETE", path: "/subjects/paddr/versions/1", status: 422, code: 42206, contains: "[6]"},
		{method: "DELETE", path: "/subjects/paddr", status: 422, code: 42206},
		{method: "DELETE", path: "/subjects/addr/versions/latest", status: 422, code: 42206},
		{method: "DELETE", path: "/subjects/jaddr", status: 422, code: 42206},
		{method: "DELETE", path: "/subjects/user/versions/1", status: 200, want: `1`},
		{method: "GET", path: "/subjects/addr/versions/1/referencedby", status: 200, want: `[]`},
		// A soft-deleted referrer still holds its references against a permanent delete.
		{method: "DELETE", path: "/subjects/addr/versions/1", status: 200, want: `1`},
		// A request may not reference a soft-deleted version, even with the text of a stored schema.
		{method: "POST", path: "/subjects/user/versions", body: schemaBody(avroUser, avroRef), status: 422, code: 42201, contains: "version 1 not found"},
		{method: "DELETE", path: "/subjects/addr/versions/1?permanent=true", status: 422, code: 42206, contains: "[4]"},
		{method: "GET", path: "/schemas/ids/4", status: 200,
			want: `{"references":[{"name":"common.Address","subject":"addr","version":1}],"schema":` + jsonString(avroUser) + `}`},
		{method: "DELETE", path: "/subjects/user/versions/1?permanent=true", status: 200, want: `1`},
		{method: "DELETE", path: "/subjects/addr/versions/1?permanent=true", status: 200, want: `1`},
		// Version 1 of paddr is referenced by id 6 through puser and puser2.
		{method: "DELETE", path: "/subjects/puser/versions/1", status: 200, want: `1`},
		{method: "DELETE", path: "/subjects/paddr/versions/1", status: 422, code: 42206, contains: "[6]"},
		{method: "DELETE", path: "/subjects/puser2", status: 200, want: `[1]`},
		{method: "DELETE", path: "/subjects/paddr/versions/1", status: 200, want: `1`},
	}
	eachStore(t, func(t *testing.T, url string) { runSteps(t, url, steps) })
}
