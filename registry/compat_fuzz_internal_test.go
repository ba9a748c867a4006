package registry

import (
	"testing"

	"github.com/sluicehq/sluice/internal/schemafmt"
)

// FuzzJSONSchemaCompatibility checks, for any schema the parser accepts, that
// the compatibility check does not panic and that a schema can always read
// what it writes itself.
func FuzzJSONSchemaCompatibility(f *testing.F) {
	for _, s := range []string{
		obj(`"a":{"type":"string"}`), `{"oneOf":[{"type":"string"},{"type":"integer"}]}`,
		`{"definitions":{"N":{"type":"object","properties":{"next":{"$ref":"#/definitions/N"}}}},"$ref":"#/definitions/N"}`,
		`{"type":"array","items":[{"type":"string"}],"additionalItems":{"type":"integer"}}`,
		`{"type":["string","null"],"enum":["a",null],"not":{"const":"b"}}`, `true`, `false`, `{}`,
		obj(`"a":{"type":"string"}`, `,"patternProperties":{"^x":{"type":"integer"}},"dependencies":{"a":["b"],"c":{"required":["d"]}}`),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		js, err := schemafmt.CompileJSONSchema(text, nil)
		if err != nil {
			return
		}
		if errs := jsonReaderErrors(js, js); len(errs) > 0 {
			t.Fatalf("%s cannot read itself: %v", text, errs)
		}
	})
}

// FuzzProtobufCompatibility is FuzzJSONSchemaCompatibility for Protobuf.
func FuzzProtobufCompatibility(f *testing.F) {
	for _, s := range []string{
		p3(`message M { string a = 1; oneof o { int32 b = 2; M m = 3; } map<string, M> c = 4; message N { repeated N n = 1; } }`),
		p2(`message M { required string a = 1; optional int32 b = 2 [default = 3]; repeated bytes c = 3; extensions 10 to 20; }`),
		p3(`enum E { A = 0; } message M { E e = 1; optional string s = 2; }`),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		fd, err := schemafmt.CompileProtobuf(text, nil)
		if err != nil {
			return
		}
		if errs := protobufReaderErrors(fd, fd); len(errs) > 0 {
			t.Fatalf("%s cannot read itself: %v", text, errs)
		}
	})
}
