package codecs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sluicehq/sluice/registry/regclient"
)

// JSONSchema is a goka.Codec for JSON validated by a JSON Schema, in the
// Confluent wire format: magic byte 0, the schema id, then the JSON text.
//
// DecodeContext fetches the writer schema (with the schemas its $refs name,
// its references) once per id, parses the payload as
// JSON (the JSON codec's canonical values: int64 for integers, float64 for
// other numbers) and validates it against the writer schema. EncodeContext
// renders ToJSON(v), validates it against the codec's own schema and frames
// it with the id of that schema, registered under the subject (schemaType
// JSON). A violation is poison at stage decode or encode, and its message
// names the JSON pointer of the failing value (a *SchemaViolation).
//
// Every error is an *Error classified poison or transient, as the Avro
// codec's. A JSONSchema is safe for concurrent use.
type JSONSchema struct {
	schema  *JSONSchemaDoc
	writers *writerSchemas[*JSONSchemaDoc]
	reg     *registration
}

// NewJSONSchema returns a JSONSchema codec writing with schema (nil: a
// decode-only codec that validates against writer schemas only). It does no
// I/O. The options are those of the Avro codec; WithSubject under a record
// strategy names the subject by the schema's title.
func NewJSONSchema(client TypedRegistry, schema *JSONSchemaDoc, opts ...AvroOption) (*JSONSchema, error) {
	if client == nil {
		return nil, errors.New("json schema codec: nil registry client")
	}
	cfg := avroConfig{negTTL: 5 * time.Second, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.stats == nil {
		cfg.stats = noStats{}
	}
	c := &JSONSchema{
		schema: schema,
		writers: &writerSchemas[*JSONSchemaDoc]{
			client:     client,
			schemaType: regclient.TypeJSON,
			parse:      parseJSONSchema,
			negTTL:     cfg.negTTL,
			now:        cfg.now,
			stats:      cfg.stats,
		},
	}
	if schema != nil {
		subject, err := cfg.subjectNamed(schema.Name())
		if err != nil {
			return nil, fmt.Errorf("json schema codec: %w", err)
		}
		c.reg = &registration{
			client:     client,
			subject:    subject,
			schemaType: regclient.TypeJSON,
			text:       schema.Text,
			lookup:     cfg.lookup,
			stats:      cfg.stats,
		}
	}
	return c, nil
}

// Subject returns the subject Encode registers under ("" when none was configured).
func (c *JSONSchema) Subject() string {
	if c.reg == nil {
		return ""
	}
	return c.reg.subject
}

// Schema returns the codec's own schema (nil for a decode-only codec).
func (c *JSONSchema) Schema() *JSONSchemaDoc { return c.schema }

// Decode is DecodeContext without a context (goka.Codec).
func (c *JSONSchema) Decode(frame []byte) (any, error) {
	return c.DecodeContext(context.Background(), frame)
}

// DecodeContext decodes and validates a wire-format frame.
func (c *JSONSchema) DecodeContext(ctx context.Context, frame []byte) (any, error) {
	id, err := checkFrame(frame)
	if err != nil {
		return nil, err
	}
	writer, err := c.writers.get(ctx, id)
	if err != nil {
		return nil, err
	}
	v, err := parseJSONValue(frame[headerSize:])
	if err != nil {
		return nil, poison("decode", id, err)
	}
	if err := writer.Validate(v); err != nil {
		return nil, poison("decode", id, err)
	}
	return v, nil
}

// parseJSONValue parses exactly one JSON value into canonical values.
func parseJSONValue(data []byte) (any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("json: empty value")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("json: trailing data after the value")
	}
	return fromJSONNumbers(v), nil
}

// Encode is EncodeContext without a context (goka.Codec).
func (c *JSONSchema) Encode(v any) ([]byte, error) {
	return c.EncodeContext(context.Background(), v)
}

// EncodeContext validates v against the codec's schema and writes it as
// JSON, framed with the registered id. The first encode registers the
// schema, with ctx, unless Register ran already.
func (c *JSONSchema) EncodeContext(ctx context.Context, v any) ([]byte, error) {
	if c.reg == nil {
		return nil, poison("encode", 0, errors.New("json schema codec without a schema cannot encode"))
	}
	if v == nil {
		return nil, poison("encode", 0, errors.New("null value"))
	}
	id, err := c.reg.encodeID(ctx)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(ToJSON(v))
	if err != nil {
		return nil, poison("encode", id, fmt.Errorf("json: %w", err))
	}
	// Validate what is written, as a reader will parse it.
	parsed, err := parseJSONValue(body)
	if err != nil {
		return nil, poison("encode", id, err)
	}
	if err := c.schema.Validate(parsed); err != nil {
		return nil, poison("encode", id, err)
	}
	out := make([]byte, 0, headerSize+len(body))
	out = append(appendHeader(out, id), body...)
	return out, nil
}

// Register registers the schema under the subject (or looks it up,
// WithLookupOnly) and caches its id; later calls return it without I/O.
func (c *JSONSchema) Register(ctx context.Context) (int, error) {
	if c.reg == nil {
		return 0, poison("encode", 0, errors.New("json schema codec without a schema cannot register"))
	}
	return c.reg.register(ctx)
}
