package schemafmt

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// ProtobufRootFile is the file name a compiled schema's descriptor carries:
// registered schemas have no file name of their own.
const ProtobufRootFile = "schema.proto"

// CompileProtobuf compiles the text of a .proto file whose imports are the
// schema's references (refs maps an import path to the imported file's text)
// or the files every Confluent registry knows: google/protobuf/*.proto,
// confluent/meta.proto and confluent/type/decimal.proto. The error is the compiler's
// message, with line and column.
//
// The schema and its references may also be given as Confluent's clients
// (Python's ProtobufSerializer) register them: a base64-encoded serialized
// FileDescriptorProto.
func CompileProtobuf(text string, refs map[string]string) (protoreflect.FileDescriptor, error) {
	if strings.TrimSpace(text) == "" {
		return nil, errors.New("empty schema")
	}
	if _, clash := refs[ProtobufRootFile]; clash {
		return nil, fmt.Errorf("a reference may not be named %q", ProtobufRootFile)
	}
	sources := make(map[string]string, len(refs)+1)
	for name, src := range refs {
		sources[name] = src
	}
	sources[ProtobufRootFile] = text
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(protocompile.ResolverFunc(func(path string) (protocompile.SearchResult, error) {
			src, ok := sources[path]
			if !ok {
				src, ok = confluentImport(path)
			}
			if !ok {
				return protocompile.SearchResult{}, fmt.Errorf("import %q is neither a reference of the schema nor a google/protobuf or confluent file", path)
			}
			if fdp := decodeSerialized(src); fdp != nil {
				fdp.Name = proto.String(path)
				return protocompile.SearchResult{Proto: fdp}, nil
			}
			return protocompile.SearchResult{Source: strings.NewReader(src)}, nil
		})),
		MaxParallelism: 1,
	}
	files, err := c.Compile(context.Background(), ProtobufRootFile)
	if err != nil {
		return nil, fmt.Errorf("compiling protobuf schema: %w", err)
	}
	return files[0], nil
}

// ProtobufNormalForm is the form in which two Protobuf schemas are the same
// schema: the file's descriptor (syntax, package, imports, options, messages,
// enums, services, with field numbers, types and names) serialised
// deterministically, so that whitespace, comments and formatting do not
// matter but every declaration does.
func ProtobufNormalForm(fd protoreflect.FileDescriptor) (string, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(ProtobufFileDescriptorProto(fd))
	if err != nil {
		return "", fmt.Errorf("rendering the protobuf normal form: %w", err)
	}
	return string(b), nil
}

// ProtobufFileDescriptorProto returns the descriptor proto of a compiled
// schema without its source info (positions and comments).
func ProtobufFileDescriptorProto(fd protoreflect.FileDescriptor) *descriptorpb.FileDescriptorProto {
	fdp := protodesc.ToFileDescriptorProto(fd)
	fdp.SourceCodeInfo = nil
	return fdp
}

// ProtobufSerialized is a compiled schema as Confluent's "serialized" format:
// its FileDescriptorProto, without source info, serialized and base64-encoded.
func ProtobufSerialized(fd protoreflect.FileDescriptor) (string, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(ProtobufFileDescriptorProto(fd))
	if err != nil {
		return "", fmt.Errorf("serializing the protobuf schema: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// decodeSerialized reads a schema in the serialized format, or returns nil
// when text is not one (.proto source never is valid base64).
func decodeSerialized(text string) *descriptorpb.FileDescriptorProto {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil || len(b) == 0 {
		return nil
	}
	fdp := &descriptorpb.FileDescriptorProto{}
	if err := proto.Unmarshal(b, fdp); err != nil {
		return nil
	}
	for _, f := range fdp.GetExtension() {
		setJSONName(f)
	}
	for _, m := range fdp.GetMessageType() {
		setJSONNames(m)
	}
	return fdp
}

// setJSONNames gives every field of m (and of its nested messages) the
// JSON name protoc would where it has none: descriptors serialized by some
// clients (Python's serialized_pb) leave it out, and the compiler would
// take every absent one for the same custom name "".
func setJSONNames(m *descriptorpb.DescriptorProto) {
	for _, f := range m.GetField() {
		setJSONName(f)
	}
	for _, f := range m.GetExtension() {
		setJSONName(f)
	}
	for _, n := range m.GetNestedType() {
		setJSONNames(n)
	}
}

func setJSONName(f *descriptorpb.FieldDescriptorProto) {
	if f.JsonName == nil {
		f.JsonName = proto.String(jsonCamelCase(f.GetName()))
	}
}

// jsonCamelCase is protoc's default JSON name of a field: each underscore
// dropped, and a lower-case letter after one upper-cased.
func jsonCamelCase(s string) string {
	b := make([]byte, 0, len(s))
	underscore := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' {
			if underscore && 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b = append(b, c)
		}
		underscore = c == '_'
	}
	return string(b)
}

// confluentImport is a file Confluent's registry resolves without a reference
// (its clients skip these when registering a schema's imports).
func confluentImport(path string) (string, bool) {
	switch path {
	case "confluent/meta.proto":
		return `syntax = "proto3";
package confluent;
import "google/protobuf/descriptor.proto";
option go_package = "../confluent";
option java_package = "io.confluent.protobuf";
option java_outer_classname = "MetaProto";
message Meta {
  string doc = 1;
  map<string, string> params = 2;
  repeated string tags = 3;
}
extend google.protobuf.FileOptions { Meta file_meta = 1088; }
extend google.protobuf.MessageOptions { Meta message_meta = 1088; }
extend google.protobuf.FieldOptions { Meta field_meta = 1088; }
extend google.protobuf.EnumOptions { Meta enum_meta = 1088; }
extend google.protobuf.EnumValueOptions { Meta enum_value_meta = 1088; }
`, true
	case "confluent/type/decimal.proto":
		return `syntax = "proto3";
package confluent.type;
option go_package = "../type";
option java_package = "io.confluent.protobuf.type";
option java_outer_classname = "DecimalProto";
message Decimal {
  bytes value = 1;
  uint32 precision = 2;
  int32 scale = 3;
}
`, true
	}
	return "", false
}
