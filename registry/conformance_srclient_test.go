package registry_test

import (
	"errors"
	"testing"

	"github.com/riferrei/srclient"
)

// TestSrclientFormats drives the registry with riferrei/srclient, which
// sends schemaType and references: JSON Schema and Protobuf schemas with
// references, compatibility checks at a level, and deletes, on every store.
func TestSrclientFormats(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		cl := srclient.NewSchemaRegistryClient(url)
		cl.CachingEnabled(false)
		cl.CodecCreationEnabled(false)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		wantCode := func(err error, code int) {
			t.Helper()
			var srErr srclient.Error
			if !errors.As(err, &srErr) || srErr.Code != code {
				t.Fatalf("error %v, want code %d", err, code)
			}
		}

		// Protobuf with an import resolved from a reference.
		// (CreateSchema answers with GET /schemas/ids/{id}, which has no version.)
		_, err := cl.CreateSchema("addr-proto", protoAddress, srclient.Protobuf)
		must(err)
		refs := []srclient.Reference{{Name: "common/address.proto", Subject: "addr-proto", Version: 1}}
		user, err := cl.CreateSchema("user-proto", protoUser, srclient.Protobuf, refs...)
		must(err)
		if *user.SchemaType() != srclient.Protobuf || len(user.References()) != 1 || user.References()[0] != refs[0] || user.Schema() != protoUser {
			t.Fatalf("CreateSchema(user) = %+v", user)
		}
		again, err := cl.CreateSchema("user-proto", protoUser, srclient.Protobuf, refs...)
		must(err)
		if again.ID() != user.ID() {
			t.Fatalf("re-registration: id %d, want %d", again.ID(), user.ID())
		}
		looked, err := cl.LookupSchema("user-proto", protoUser, srclient.Protobuf, refs...)
		must(err)
		if looked.ID() != user.ID() || looked.Version() != 1 {
			t.Fatalf("LookupSchema = id %d version %d", looked.ID(), looked.Version())
		}
		_, err = cl.CreateSchema("user-proto", protoUser, srclient.Protobuf)
		wantCode(err, 42201)
		_, err = cl.CreateSchema("user-proto", protoUser, srclient.Protobuf, srclient.Reference{Name: "common/address.proto", Subject: "addr-proto", Version: 9})
		wantCode(err, 42201)

		// A compatible and an incompatible change under FULL.
		_, err = cl.ChangeSubjectCompatibilityLevel("user-proto", srclient.Full)
		must(err)
		renamed := `syntax = "proto3"; import "common/address.proto"; message User { common.Address home = 1; string name = 2; }`
		ok, err := cl.IsSchemaCompatible("user-proto", renamed, "latest", srclient.Protobuf, refs...)
		must(err)
		if !ok {
			t.Fatal("renaming a field and adding one is FULL compatible")
		}
		bad := `syntax = "proto3"; message User { int64 address = 1; }`
		if ok, err = cl.IsSchemaCompatible("user-proto", bad, "latest", srclient.Protobuf); err != nil || ok {
			t.Fatalf("IsSchemaCompatible(message to int64) = %v, %v; want false", ok, err)
		}
		_, err = cl.CreateSchema("user-proto", bad, srclient.Protobuf)
		wantCode(err, 409)
		_, err = cl.CreateSchema("user-proto", renamed, srclient.Protobuf, refs...)
		must(err)
		latest, err := cl.GetLatestSchema("user-proto")
		must(err)
		if latest.Version() != 2 || latest.Schema() != renamed || *latest.SchemaType() != srclient.Protobuf {
			t.Fatalf("GetLatestSchema = version %d %q", latest.Version(), latest.Schema())
		}

		// JSON Schema with a $ref to a reference.
		_, err = cl.CreateSchema("addr-json", jsonAddress, srclient.Json)
		must(err)
		jrefs := []srclient.Reference{{Name: "address.json", Subject: "addr-json", Version: 1}}
		juser, err := cl.CreateSchema("user-json", jsonUser, srclient.Json, jrefs...)
		must(err)
		got, err := cl.GetSchema(juser.ID())
		must(err)
		if *got.SchemaType() != srclient.Json || len(got.References()) != 1 || got.References()[0] != jrefs[0] {
			t.Fatalf("GetSchema(json user) = %+v", got)
		}
		_, err = cl.ChangeSubjectCompatibilityLevel("user-json", srclient.Backward)
		must(err)
		if ok, err = cl.IsSchemaCompatible("addr-json", `{"type":"object","properties":{}}`, "latest", srclient.Json); err != nil || !ok {
			t.Fatalf("removing a property from an open content model is BACKWARD compatible: %v, %v", ok, err)
		}
		closedAddr := `{"type":"object","properties":{"street":{"type":"string"}},"additionalProperties":false}`
		if ok, err = cl.IsSchemaCompatible("addr-json", closedAddr, "latest", srclient.Json); err != nil || ok {
			t.Fatalf("closing an open content model: %v, %v; want incompatible (ADDITIONAL_PROPERTIES_REMOVED)", ok, err)
		}
		if ok, err = cl.IsSchemaCompatible("addr-json", `{"type":"object","properties":{"street":{"type":"integer"}}}`, "latest", srclient.Json); err != nil || ok {
			t.Fatalf("string to integer: %v, %v; want incompatible", ok, err)
		}

		// Deletes: a referenced version stays until its referrers go. (srclient's
		// permanent delete is a soft delete, then a permanent one.)
		wantCode(cl.DeleteSubjectByVersion("addr-proto", 1, false), 42206)
		wantCode(cl.DeleteSubject("addr-json", true), 42206)
		must(cl.DeleteSubject("user-proto", false))
		must(cl.DeleteSubjectByVersion("addr-proto", 1, false))
		must(cl.DeleteSubject("user-json", true))
		must(cl.DeleteSubject("addr-json", true))
		subjects, err := cl.GetSubjectsIncludingDeleted()
		must(err)
		if len(subjects) != 2 || subjects[0] != "addr-proto" || subjects[1] != "user-proto" {
			t.Fatalf("subjects = %v", subjects)
		}
		live, err := cl.GetSubjects()
		must(err)
		if len(live) != 0 {
			t.Fatalf("live subjects = %v", live)
		}
	})
}
