package codecs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hamba/avro/v2"
)

// Avro is a goka.Codec for Avro in the Confluent wire format.
//
// DecodeContext reads the writer schema id from the frame, fetches that schema from the
// registry once per id, resolves it to the reader schema once per id, caches the result and
// decodes into the reader schema's shape, as the canonical values described in the package
// documentation. EncodeContext writes with the reader schema (writer = reader), which is
// registered (or looked up) under the configured subject once; call Register at startup so
// the hot path never calls the registry. Decode and Encode are the same without a context
// (goka.Codec); a registry call they make is bounded by the client's own timeout only.
//
// Every error is an *Error, classified poison or transient. An Avro is safe for concurrent
// use.
type Avro struct {
	client  Registry
	reader  avro.Schema
	subject string
	lookup  bool // look the schema up instead of registering it
	stats   Stats

	writers *writerCache
	bufs    sync.Pool // *[]byte

	regMu sync.Mutex   // serialises Register
	encID atomic.Int64 // registered id of the reader schema, 0 until known
}

// AvroOption configures an Avro codec, and the JSONSchema and Protobuf codecs
// too (subject, lookup, negative cache, stats).
type AvroOption func(*avroConfig)

type avroConfig struct {
	subject  string // literal, WithSubjectName
	topic    string // WithSubject / WithKeySubject
	isKey    bool
	strategy SubjectStrategy
	lookup   bool
	negTTL   time.Duration
	now      func() time.Time
	stats    Stats
}

// WithSubject sets the value subject Encode registers the reader schema under, derived from
// topic by strategy (Subject(strategy, topic, false, reader)).
func WithSubject(topic string, strategy SubjectStrategy) AvroOption {
	return func(c *avroConfig) { c.subject, c.topic, c.isKey, c.strategy = "", topic, false, strategy }
}

// WithKeySubject is WithSubject for a key codec: Subject(strategy, topic, true, reader).
func WithKeySubject(topic string, strategy SubjectStrategy) AvroOption {
	return func(c *avroConfig) { c.subject, c.topic, c.isKey, c.strategy = "", topic, true, strategy }
}

// WithSubjectName sets the subject name literally.
func WithSubjectName(subject string) AvroOption {
	return func(c *avroConfig) { c.subject, c.topic = subject, "" }
}

// WithLookupOnly makes Register look the schema up under the subject (POST /subjects/{s})
// instead of registering it, for registries where clients may not register schemas.
func WithLookupOnly() AvroOption {
	return func(c *avroConfig) { c.lookup = true }
}

// WithNegativeCacheTTL sets how long a poison answer for a schema id (unknown id,
// unparsable or unresolvable writer schema) is remembered; default 5s, 0 disables it.
// Transient failures are never remembered.
func WithNegativeCacheTTL(d time.Duration) AvroOption {
	return func(c *avroConfig) { c.negTTL = d }
}

// withClock replaces time.Now (tests).
func withClock(now func() time.Time) AvroOption {
	return func(c *avroConfig) { c.now = now }
}

// NewAvro returns an Avro codec decoding into reader and encoding with it. client is the
// registry client (a *regclient.Client); schemas is the cache that parsed reader. NewAvro
// does no I/O.
func NewAvro(client Registry, schemas *Schemas, reader avro.Schema, opts ...AvroOption) (*Avro, error) {
	if client == nil {
		return nil, errors.New("avro codec: nil registry client")
	}
	if schemas == nil {
		return nil, errors.New("avro codec: nil Schemas")
	}
	if reader == nil {
		return nil, errors.New("avro codec: nil reader schema")
	}
	cfg := avroConfig{negTTL: 5 * time.Second, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.stats == nil {
		cfg.stats = noStats{}
	}
	subject, err := cfg.subjectFor(reader)
	if err != nil {
		return nil, err
	}
	c := &Avro{
		client:  client,
		reader:  reader,
		subject: subject,
		lookup:  cfg.lookup,
		stats:   cfg.stats,
		writers: &writerCache{
			stats:   cfg.stats,
			client:  client,
			schemas: schemas,
			reader:  reader,
			negTTL:  cfg.negTTL,
			now:     cfg.now,
		},
	}
	c.bufs.New = func() any { b := make([]byte, 0, 256); return &b }
	return c, nil
}

func (cfg avroConfig) subjectFor(reader avro.Schema) (string, error) {
	if cfg.topic == "" {
		return cfg.subject, nil
	}
	if cfg.strategy < TopicNameStrategy || cfg.strategy > TopicRecordNameStrategy {
		return "", fmt.Errorf("avro codec: unknown subject strategy %d", int(cfg.strategy))
	}
	return Subject(cfg.strategy, cfg.topic, cfg.isKey, reader), nil
}

// subjectNamed is subjectFor for a schema whose record name is name.
func (cfg avroConfig) subjectNamed(name string) (string, error) {
	if cfg.topic == "" {
		return cfg.subject, nil
	}
	if cfg.strategy < TopicNameStrategy || cfg.strategy > TopicRecordNameStrategy {
		return "", fmt.Errorf("unknown subject strategy %d", int(cfg.strategy))
	}
	return SubjectNamed(cfg.strategy, cfg.topic, cfg.isKey, name), nil
}

// Subject returns the subject Encode registers under ("" when none was configured).
func (c *Avro) Subject() string { return c.subject }

// Reader returns the reader schema.
func (c *Avro) Reader() avro.Schema { return c.reader }

// Decode is DecodeContext without a context (goka.Codec).
func (c *Avro) Decode(frame []byte) (any, error) {
	return c.DecodeContext(context.Background(), frame)
}

// DecodeContext decodes a wire-format frame into the reader schema's canonical value (a
// record is map[string]any). ctx bounds the registry fetch of an id not seen before; a
// cancelled ctx is a transient error.
func (c *Avro) DecodeContext(ctx context.Context, frame []byte) (any, error) {
	if frame == nil {
		return nil, poison("decode", 0, errors.New("null value"))
	}
	id, ok := FrameSchemaID(frame)
	if !ok {
		if len(frame) < headerSize {
			return nil, poison("decode", 0, fmt.Errorf("frame of %d bytes is shorter than the 5-byte header", len(frame)))
		}
		return nil, poison("decode", 0, fmt.Errorf("magic byte %d, want 0", frame[0]))
	}
	if id < 1 {
		// Registries number schemas from 1: no need to ask.
		return nil, poison("decode", id, fmt.Errorf("schema id %d is not a valid registry id", id))
	}
	res, err := c.writers.get(ctx, id)
	if err != nil {
		return nil, err
	}
	r := res.readers.Get().(*avro.Reader)
	r.Reset(frame[headerSize:])
	var v any
	switch {
	case res.read != nil:
		v = res.read(r)
	case res.record:
		v = readRecord(r, res.schema)
	default:
		v = readAny(r, res.schema)
	}
	err = r.Error
	if err == nil {
		// Every byte must belong to the value: Peek sets io.EOF exactly at the end.
		r.Peek()
		if r.Error == nil {
			err = errors.New("trailing bytes after the value")
		}
	}
	r.Error = nil
	r.Reset(nil)
	res.readers.Put(r)
	if err != nil {
		return nil, poison("decode", id, fmt.Errorf("corrupt payload: %w", err))
	}
	if res.read == nil && res.norm != nil {
		v = res.norm(v)
	}
	return v, nil
}

// readRecord and readAny keep the receiver's address (which escapes to hamba) out of Decode,
// so a record costs no extra allocation for an interface receiver.
func readRecord(r *avro.Reader, s avro.Schema) any {
	var m map[string]any
	r.ReadVal(s, &m)
	return m
}

func readAny(r *avro.Reader, s avro.Schema) any {
	var v any
	r.ReadVal(s, &v)
	return v
}

// Encode is EncodeContext without a context (goka.Codec).
func (c *Avro) Encode(v any) ([]byte, error) {
	return c.EncodeContext(context.Background(), v)
}

// EncodeContext encodes v (a canonical value or anything Coerce accepts) with the reader
// schema, framed with the registered schema id. The first encode registers the schema, with
// ctx, unless Register ran already.
func (c *Avro) EncodeContext(ctx context.Context, v any) ([]byte, error) {
	if v == nil {
		return nil, poison("encode", 0, errors.New("null value"))
	}
	id := int(c.encID.Load())
	c.stats.SchemaCacheLookup(id != 0)
	if id == 0 {
		var err error
		if id, err = c.Register(ctx); err != nil {
			return nil, err
		}
	}
	bp := c.bufs.Get().(*[]byte)
	buf := appendHeader((*bp)[:0], id)
	buf, err := appendValue(buf, c.reader, v)
	var out []byte
	if err == nil {
		out = make([]byte, len(buf))
		copy(out, buf)
	}
	if cap(buf) <= 64<<10 {
		*bp = buf[:0]
		c.bufs.Put(bp)
	}
	if err != nil {
		return nil, poison("encode", id, fmt.Errorf("encoding %s: %w", schemaName(c.reader), err))
	}
	return out, nil
}

// Register registers the reader schema under the subject (or looks it up, WithLookupOnly)
// and caches its id; later calls return the cached id without I/O.
func (c *Avro) Register(ctx context.Context) (int, error) {
	if id := c.encID.Load(); id != 0 {
		return int(id), nil
	}
	c.regMu.Lock()
	defer c.regMu.Unlock()
	if id := c.encID.Load(); id != 0 {
		return int(id), nil
	}
	if c.subject == "" {
		return 0, poison("encode", 0, errors.New("no subject configured (WithSubject)"))
	}
	text, err := json.Marshal(c.reader)
	if err != nil {
		return 0, poison("encode", 0, fmt.Errorf("rendering schema: %w", err))
	}
	var id int
	if c.lookup {
		id, _, err = c.client.Lookup(ctx, c.subject, string(text))
	} else {
		id, err = c.client.Register(ctx, c.subject, string(text))
	}
	c.stats.RegistryRequest(registryResult(err))
	if err != nil {
		verb := "registering"
		if c.lookup {
			verb = "looking up"
		}
		return 0, registryError("encode", 0, fmt.Errorf("%s schema under subject %s: %w", verb, c.subject, err))
	}
	c.encID.Store(int64(id))
	return id, nil
}
