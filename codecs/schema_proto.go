package codecs

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluicehq/sluice/internal/bounded"
	"github.com/sluicehq/sluice/internal/schemafmt"
)

// ProtoMessage is a compiled .proto file and the message type of it that a
// Protobuf codec reads and writes.
type ProtoMessage struct {
	// Text is the .proto source, as registered.
	Text string
	// File is the compiled file.
	File protoreflect.FileDescriptor
	// Message is the message type.
	Message protoreflect.MessageDescriptor
	// Index is the message's path in File (the Confluent message indexes):
	// [0] is the first top-level message, [1, 0] the first message nested in
	// the second.
	Index []int
}

// ParseProto compiles a .proto file's text at run time, without protoc, as
// the registry does (internal/schemafmt), and picks message: its full name
// or its name without the package; "" picks the file's first message.
// Imports of the well-known google/protobuf/*.proto files resolve; a local
// file importing other files is not supported (a writer schema fetched from
// the registry may have references: the codec resolves them).
func ParseProto(text, message string) (*ProtoMessage, error) {
	fd, err := compileProto(text)
	if err != nil {
		return nil, err
	}
	return pickMessage(fd, text, message)
}

// ParseProtoFile reads and compiles a .proto file (see ParseProto); errors
// name the file. A file that is not regular or has more than
// MaxSchemaFileBytes is refused.
func ParseProtoFile(path, message string) (*ProtoMessage, error) {
	b, err := bounded.ReadFile(path, MaxSchemaFileBytes)
	if err != nil {
		return nil, fmt.Errorf("reading schema: %w", err)
	}
	pm, err := ParseProto(string(b), message)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pm, nil
}

// compileProto compiles one .proto text, as the registry does.
func compileProto(text string) (protoreflect.FileDescriptor, error) {
	return schemafmt.CompileProtobuf(text, nil)
}

// parseWriterProto parses a registry's PROTOBUF schema, whose imports are
// refs (import path -> text): .proto text, or (what the Confluent Python
// client registers) a base64 FileDescriptorProto; internal/schemafmt reads
// both.
func parseWriterProto(text string, refs map[string]string) (protoreflect.FileDescriptor, error) {
	return schemafmt.CompileProtobuf(text, refs)
}

func pickMessage(fd protoreflect.FileDescriptor, text, message string) (*ProtoMessage, error) {
	if fd.Messages().Len() == 0 {
		return nil, errors.New("the file declares no message")
	}
	if message == "" {
		return &ProtoMessage{Text: text, File: fd, Message: fd.Messages().Get(0), Index: []int{0}}, nil
	}
	full := protoreflect.FullName(message)
	if fd.Package() != "" && !strings.HasPrefix(message, string(fd.Package())+".") {
		full = protoreflect.FullName(string(fd.Package()) + "." + message)
	}
	if md, index := findMessage(fd.Messages(), full, nil); md != nil {
		return &ProtoMessage{Text: text, File: fd, Message: md, Index: index}, nil
	}
	var names []string
	walkMessages(fd.Messages(), func(md protoreflect.MessageDescriptor) { names = append(names, string(md.FullName())) })
	return nil, fmt.Errorf("no message %q in the file (messages: %s)", message, strings.Join(names, ", "))
}

// findMessage returns the message named full and its index path.
func findMessage(mds protoreflect.MessageDescriptors, full protoreflect.FullName, path []int) (protoreflect.MessageDescriptor, []int) {
	for i := 0; i < mds.Len(); i++ {
		md := mds.Get(i)
		if md.IsMapEntry() {
			continue
		}
		p := append(append([]int(nil), path...), i)
		if md.FullName() == full {
			return md, p
		}
		if found, fp := findMessage(md.Messages(), full, p); found != nil {
			return found, fp
		}
	}
	return nil, nil
}

func walkMessages(mds protoreflect.MessageDescriptors, f func(protoreflect.MessageDescriptor)) {
	for i := 0; i < mds.Len(); i++ {
		if md := mds.Get(i); !md.IsMapEntry() {
			f(md)
			walkMessages(md.Messages(), f)
		}
	}
}

// messageAt returns the message at a Confluent message-index path.
func messageAt(fd protoreflect.FileDescriptor, index []int) (protoreflect.MessageDescriptor, error) {
	mds := fd.Messages()
	var md protoreflect.MessageDescriptor
	for _, i := range index {
		if i < 0 || i >= mds.Len() {
			return nil, fmt.Errorf("message index %v is not in the writer schema", index)
		}
		md = mds.Get(i)
		mds = md.Messages()
	}
	if md == nil {
		return nil, errors.New("empty message index")
	}
	return md, nil
}
