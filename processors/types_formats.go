package processors

import (
	"reflect"
	"slices"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// TypeOfProto derives a Type from a Protobuf message, with the Go types
// package codecs decodes its fields into (see codecs/proto_values.go): a
// record of every field of the message, closed, so that an expression
// naming a field the message lacks is an error.
func TypeOfProto(md protoreflect.MessageDescriptor) *Type {
	t := &Type{Name: string(md.FullName())}
	fields := md.Fields()
	t.Fields = make([]Field, 0, fields.Len())
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		t.Fields = append(t.Fields, Field{Name: string(fd.Name()), Go: protoGoType(fd)})
	}
	return t
}

func protoGoType(fd protoreflect.FieldDescriptor) reflect.Type {
	switch {
	case fd.IsList():
		return reflect.TypeOf([]any(nil))
	case fd.IsMap():
		return reflect.TypeOf(map[string]any(nil))
	case fd.HasPresence() && fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind:
		return typeAny // nil when unset
	}
	return protoScalarGoType(fd)
}

func protoScalarGoType(fd protoreflect.FieldDescriptor) reflect.Type {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return reflect.TypeOf(false)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return reflect.TypeOf(int32(0))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return reflect.TypeOf(int64(0))
	case protoreflect.FloatKind:
		return reflect.TypeOf(float32(0))
	case protoreflect.DoubleKind:
		return reflect.TypeOf(float64(0))
	case protoreflect.StringKind, protoreflect.EnumKind:
		return reflect.TypeOf("")
	case protoreflect.BytesKind:
		return typeBytes
	}
	// Messages may be unset (nil), as may the wrapper types' values: known
	// at run time only, like Avro's unions. Timestamps are time.Time when set.
	return typeAny
}

// TypeOfJSONSchema derives a Type from a compiled JSON Schema whose root is
// an object with properties. Expressions are checked against the declared
// properties, even when the schema allows others (additionalProperties is
// not false): a property the schema does not declare is an error at lint,
// which is how a typo in a field name is caught. Properties of one JSON
// type get its Go type as the JSON Schema codec decodes it (integer: int64,
// string, boolean, array: []any, object: map[string]any, or a record for an
// object with properties); "number" and mixed types are any (an integral
// number decodes to int64, another to float64).
func TypeOfJSONSchema(s *jsonschema.Schema) *Type {
	return typeOfJSONSchema(s, 0)
}

// maxJSONDepth bounds how deep nested objects become struct types: a
// recursive schema (a tree) would otherwise never end.
const maxJSONDepth = 8

func typeOfJSONSchema(s *jsonschema.Schema, depth int) *Type {
	s = derefJSON(s)
	t := &Type{Name: s.Title}
	if s.Properties == nil {
		return t
	}
	names := make([]string, 0, len(s.Properties))
	for name := range s.Properties {
		names = append(names, name)
	}
	slices.Sort(names)
	t.Fields = make([]Field, 0, len(names))
	for _, name := range names {
		t.Fields = append(t.Fields, Field{Name: name, Go: jsonGoType(s.Properties[name], depth+1)})
	}
	return t
}

// derefJSON follows a schema's $ref.
func derefJSON(s *jsonschema.Schema) *jsonschema.Schema {
	for i := 0; s.Ref != nil && i < 32; i++ {
		s = s.Ref
	}
	return s
}

func jsonGoType(s *jsonschema.Schema, depth int) reflect.Type {
	s = derefJSON(s)
	if s.Types == nil {
		return typeAny
	}
	types := s.Types.ToStrings()
	if len(types) != 1 {
		return typeAny
	}
	switch types[0] {
	case "string":
		return reflect.TypeOf("")
	case "integer":
		return reflect.TypeOf(int64(0))
	case "boolean":
		return reflect.TypeOf(false)
	case "array":
		return reflect.TypeOf([]any(nil))
	case "object":
		if s.Properties == nil || depth >= maxJSONDepth {
			return reflect.TypeOf(map[string]any(nil))
		}
		// Like a nested Avro record: a struct, so that device.os is checked.
		return structOf(typeOfJSONSchema(s, depth).Fields)
	}
	return typeAny
}
