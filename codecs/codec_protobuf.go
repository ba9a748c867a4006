package codecs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/sluicehq/sluice/registry/regclient"
)

// Protobuf is a goka.Codec for Protobuf in the Confluent wire format: magic
// byte 0, the schema id, the message-index array (zigzag varints; the single
// byte 0 for the file's first message), then the message.
//
// DecodeContext fetches the writer schema (.proto text, or a base64
// FileDescriptorProto as the Confluent Python client registers it) and the
// schemas it imports (its references) once per id, finds the message the frame's indexes name, checks that it is the
// reader's message type (by full name) and decodes the payload with the
// reader's descriptor, so fields the writer lacks read as their defaults and
// fields the reader lacks are skipped, as Protobuf's own evolution rules
// have it. The value is the canonical record described in protoToMap.
//
// EncodeContext writes a canonical record (or what Coerce accepts) as the
// reader message, framed with the id of the .proto registered under the
// subject (schemaType PROTOBUF) and the message's indexes.
//
// A codec without a reader message (NewProtobuf with nil) decodes each
// frame as the writer's own message at the frame's indexes and cannot
// encode: what a console consumer wants.
//
// Every error is an *Error classified poison or transient, as the Avro
// codec's. A Protobuf is safe for concurrent use.
type Protobuf struct {
	reader  *ProtoMessage
	writers *writerSchemas[protoreflect.FileDescriptor]
	reg     *registration
}

// NewProtobuf returns a Protobuf codec for the message of reader (nil: a
// decode-only codec of writer messages). It does no I/O. The options are
// those of the Avro codec; WithSubject under a record strategy names the
// subject by the message's full name.
func NewProtobuf(client TypedRegistry, reader *ProtoMessage, opts ...AvroOption) (*Protobuf, error) {
	if client == nil {
		return nil, errors.New("protobuf codec: nil registry client")
	}
	if reader != nil && reader.Message == nil {
		return nil, errors.New("protobuf codec: nil message")
	}
	cfg := avroConfig{negTTL: 5 * time.Second, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.stats == nil {
		cfg.stats = noStats{}
	}
	c := &Protobuf{
		reader: reader,
		writers: &writerSchemas[protoreflect.FileDescriptor]{
			client:     client,
			schemaType: regclient.TypeProtobuf,
			parse:      parseWriterProto,
			negTTL:     cfg.negTTL,
			now:        cfg.now,
			stats:      cfg.stats,
		},
	}
	if reader == nil {
		return c, nil
	}
	subject, err := cfg.subjectNamed(string(reader.Message.FullName()))
	if err != nil {
		return nil, fmt.Errorf("protobuf codec: %w", err)
	}
	c.reg = &registration{
		client:     client,
		subject:    subject,
		schemaType: regclient.TypeProtobuf,
		text:       reader.Text,
		lookup:     cfg.lookup,
		stats:      cfg.stats,
	}
	return c, nil
}

// Subject returns the subject Encode registers under ("" when none was configured).
func (c *Protobuf) Subject() string {
	if c.reg == nil {
		return ""
	}
	return c.reg.subject
}

// Reader returns the message type the codec reads and writes (nil for a
// decode-only codec).
func (c *Protobuf) Reader() *ProtoMessage { return c.reader }

// Decode is DecodeContext without a context (goka.Codec).
func (c *Protobuf) Decode(frame []byte) (any, error) {
	return c.DecodeContext(context.Background(), frame)
}

// DecodeContext decodes a wire-format frame into a map[string]any.
func (c *Protobuf) DecodeContext(ctx context.Context, frame []byte) (any, error) {
	id, err := checkFrame(frame)
	if err != nil {
		return nil, err
	}
	index, n, err := readMessageIndexes(frame[headerSize:])
	if err != nil {
		return nil, poison("decode", id, err)
	}
	fd, err := c.writers.get(ctx, id)
	if err != nil {
		return nil, err
	}
	md, err := messageAt(fd, index)
	if err != nil {
		return nil, poison("decode", id, err)
	}
	read := md
	if c.reader != nil {
		if want := c.reader.Message.FullName(); md.FullName() != want {
			return nil, poison("decode", id, fmt.Errorf("the frame holds a %s, not a %s", md.FullName(), want))
		}
		read = c.reader.Message
	}
	m := dynamicpb.NewMessage(read)
	if err := (proto.UnmarshalOptions{RecursionLimit: 64}).Unmarshal(frame[headerSize+n:], m); err != nil {
		return nil, poison("decode", id, fmt.Errorf("corrupt payload: %w", err))
	}
	v, err := protoToMap(m)
	if err != nil {
		return nil, poison("decode", id, fmt.Errorf("reading %s: %w", md.FullName(), err))
	}
	return v, nil
}

// Encode is EncodeContext without a context (goka.Codec).
func (c *Protobuf) Encode(v any) ([]byte, error) {
	return c.EncodeContext(context.Background(), v)
}

// EncodeContext encodes a record as the reader message, framed with the
// registered schema id and the message's indexes. The first encode registers
// the schema, with ctx, unless Register ran already.
func (c *Protobuf) EncodeContext(ctx context.Context, v any) ([]byte, error) {
	if c.reader == nil {
		return nil, poison("encode", 0, errors.New("protobuf codec without a message cannot encode"))
	}
	if v == nil {
		return nil, poison("encode", 0, errors.New("null value"))
	}
	rec, ok := v.(map[string]any)
	if !ok {
		return nil, poison("encode", 0, fmt.Errorf("encoding %s: %w", c.reader.Message.FullName(), typeError("record", v)))
	}
	id, err := c.reg.encodeID(ctx)
	if err != nil {
		return nil, err
	}
	m, err := mapToProto(c.reader.Message, rec)
	if err != nil {
		return nil, poison("encode", id, fmt.Errorf("encoding %s: %w", c.reader.Message.FullName(), err))
	}
	buf := appendMessageIndexes(appendHeader(make([]byte, 0, 64), id), c.reader.Index)
	out, err := proto.MarshalOptions{Deterministic: true}.MarshalAppend(buf, m)
	if err != nil {
		return nil, poison("encode", id, fmt.Errorf("encoding %s: %w", c.reader.Message.FullName(), err))
	}
	return out, nil
}

// Register registers the .proto under the subject (or looks it up,
// WithLookupOnly) and caches its id; later calls return it without I/O.
func (c *Protobuf) Register(ctx context.Context) (int, error) {
	if c.reg == nil {
		return 0, poison("encode", 0, errors.New("protobuf codec without a message cannot register"))
	}
	return c.reg.register(ctx)
}
