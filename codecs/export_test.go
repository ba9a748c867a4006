package codecs

import (
	"encoding/base64"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
)

// WithClock replaces time.Now for the negative-cache tests.
func WithClock(now func() time.Time) AvroOption { return withClock(now) }

// ProtoDescriptorBase64 renders pm's file as the Confluent Python client
// registers it: a base64 serialized FileDescriptorProto.
func ProtoDescriptorBase64(t testing.TB, pm *ProtoMessage) string {
	b, err := proto.Marshal(protodesc.ToFileDescriptorProto(pm.File))
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}
