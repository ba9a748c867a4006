package registry

import "google.golang.org/protobuf/reflect/protoreflect"

// protobufReaderErrors returns why data written with writer cannot be read with reader.
func protobufReaderErrors(reader, writer protoreflect.FileDescriptor) []string {
	return nil
}
