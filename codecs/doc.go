// Package codecs holds sluice's goka.Codec implementations: Avro, JSON Schema
// (JSONSchema) and Protobuf in the Confluent wire formats through a schema
// registry, JSON, String and Bytes, and Schemas, the one place that parses
// Avro schemas. JSON Schema and .proto files are compiled as the registry
// compiles them (internal/schemafmt): ParseJSONSchema, ParseProto.
//
// # Canonical values
//
// Every decoded Avro value, every value Coerce returns, and what pipeline steps see, uses
// one representation (Encode accepts it, plus anything Coerce accepts):
//
//	Avro type                           Go value
//	record                              map[string]any (every field of the reader schema)
//	string, uuid                        string
//	int                                 int32
//	long                                int64
//	float                               float32
//	double                              float64
//	boolean                             bool
//	bytes, fixed                        []byte
//	enum                                string (the symbol)
//	null                                nil
//	array                               []any
//	map                                 map[string]any
//	timestamp-millis, timestamp-micros  time.Time (UTC)
//	local-timestamp-millis/-micros      time.Time (UTC)
//	date                                time.Time (midnight UTC)
//	time-millis, time-micros            time.Duration
//	decimal (bytes or fixed)            *big.Rat
//	duration (fixed 12)                 avro.LogicalDuration
//	union                               the branch's plain value (nil for null), never
//	                                    hamba's map[string]any{"string": "x"} wrapping
//
// Decode normalises hamba/avro's output to this form (see normalise.go for what hamba
// v2.31.0 does differently); Encode picks a union's branch from the Go value, like Coerce.
// ToJSON turns canonical values into JSON-friendly ones (times as Unix milliseconds).
//
// A JSONSchema codec decodes to the JSON codec's values (objects as
// map[string]any, integers int64, other numbers float64) after validating
// them against the writer schema; a Protobuf codec decodes to records as
// described in protoToMap (proto_values.go): the same Go types as Avro's,
// enums as their names, google.protobuf.Timestamp as time.Time.
//
// # Errors
//
// Encode and Decode return *Error; errors.Is(err, ErrPoison) means the message will never
// succeed (dead-letter it), errors.Is(err, ErrUnavailable) means retry later (the registry is
// unreachable or failing). A registry failure is poison only when the registry itself says
// the schema id (or subject, or version) does not exist, by its error code (IsNotFound);
// a bare 404 from a wrong registry URL, 401/403, 5xx, timeouts and refused connections are
// transient, so a misconfigured registry holds the pipeline instead of dead-lettering good
// messages. FrameSchemaID extracts the writer schema id for dead-letter headers.
//
// The Avro codec talks to the registry through Registry, which *regclient.Client
// implements; DecodeContext and EncodeContext pass the message's context to it.
//
// # Cost
//
// Per writer schema id the Avro codec fetches the schema once, resolves it to the reader
// schema once and compiles the normaliser once; the per-message path is a lock-free cache
// lookup, hamba's decode into map[string]any and, only for schemas with int or fixed
// fields, an in-place conversion of those fields. Encode writes the Avro binary directly
// from the map without reflection.
//
// It owns schema parsing, the wire format and value conversion, and talks to a
// registry only through the Registry interface: it must not import pipeline,
// processors, the registry server, goka or sarama.
// The rules are checked by TestImportRules (arch_test.go).
package codecs
