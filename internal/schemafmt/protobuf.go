package schemafmt

import (
	"context"
	"errors"
	"fmt"
	"io"
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
// or the standard google/protobuf/*.proto files. The error is the compiler's
// message, with line and column.
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
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
			Accessor: func(path string) (io.ReadCloser, error) {
				src, ok := sources[path]
				if !ok {
					return nil, fmt.Errorf("import %q is neither a reference of the schema nor a google/protobuf file", path)
				}
				return io.NopCloser(strings.NewReader(src)), nil
			},
		}),
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
