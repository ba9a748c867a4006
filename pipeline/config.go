package pipeline

import (
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/partition"
	"github.com/sluicehq/sluice/internal/tlsconf"
	"github.com/sluicehq/sluice/outbox"
	"github.com/sluicehq/sluice/processors"
	"github.com/sluicehq/sluice/processors/config"
)

// Config is a loaded and checked pipelines.yaml.
type Config struct {
	// File is the path the configuration was read from.
	File      string
	Version   int
	Kafka     Kafka
	Registry  Registry
	Pipelines []*Pipeline
	// Publish are the HTTP publish routes (the top-level publish list).
	Publish []*PublishRoute
	// Outbox is the transactional outbox relay (`outbox:`), nil when none.
	Outbox *outbox.Config
}

// Kafka holds the connection and topic-creation settings shared by all pipelines.
type Kafka struct {
	Brokers  []string
	ClientID string
	// Version is the Kafka protocol version sarama speaks, e.g. "3.6.0".
	Version string
	// Partitions is the partition count of input topics sluice creates
	// (outputs and dead-letter topics take their input's count).
	Partitions int
	// Replication is the replication factor of topics sluice creates,
	// goka's tables included.
	Replication int
	// Partitioner is how keys map to partitions: murmur2 (Java clients, the
	// default), fnv1a (sarama, goka) or crc32 (librdkafka).
	Partitioner string
	// SessionTimeout and Heartbeat tune the consumer group.
	SessionTimeout time.Duration
	Heartbeat      time.Duration
	// TLS and SASL secure every connection to the brokers (kafka.tls,
	// kafka.sasl). SASL's String form hides its secrets.
	TLS  tlsconf.Config
	SASL kafkaconn.SASL
}

// Conn is how every client of the pipelines connects: to brokers (the
// configured ones, or the override of Options.Brokers) as clientID, with
// the configured TLS and SASL.
func (k Kafka) Conn(brokers []string, clientID string) kafkaconn.Config {
	return kafkaconn.Config{Brokers: brokers, ClientID: clientID, TLS: k.TLS, SASL: k.SASL}
}

// Registry holds the schema registry settings.
type Registry struct {
	URL string
	// SubjectStrategy names subjects of output schemas: topic_name (default),
	// record_name or topic_record_name.
	SubjectStrategy string
	// Username and Password are basic auth (registry.basic_auth); BearerToken
	// is sent as "Authorization: Bearer" instead. At most one of the two.
	// They are secrets: String and LogValue leave them out.
	Username    string
	Password    string
	BearerToken string
	// TLS is the client side of an https:// registry (registry.tls).
	TLS tlsconf.Config
}

// Pipeline is one Goka processor group.
type Pipeline struct {
	Name  string
	Group string
	Pos   config.Pos

	Input      Input
	Outputs    map[string]*Output
	OutputList []string // output names in file order
	DeadLetter string
	State      *State
	Retry      Retry
	Steps      []*Step
	// Headers says which input headers the outputs carry.
	Headers Headers
	// Breaker stops dead-lettering when failures of one stage and kind pile up.
	Breaker Breaker
	// Metrics says which optional metrics the pipeline exports.
	Metrics Metrics
}

// Metrics are a pipeline's optional metrics (`metrics: {steps: true}`).
type Metrics struct {
	// Steps exports sluice_step_duration_seconds, a histogram per step.
	Steps bool
}

// Headers says which headers of an input record its outputs carry: every
// one (the default, `headers: keep`), none (`headers: drop`) or the listed
// names (`headers: [a, b]`). sluice.* headers are never copied to outputs,
// the W3C trace context (traceparent, tracestate) always is, and dead
// letters always carry every input header.
type Headers struct {
	Drop bool
	// Only, when not nil, lists the names kept.
	Only []string
}

// Stateful reports whether the pipeline keeps a group table.
func (p *Pipeline) Stateful() bool { return p.State != nil }

// Endpoint is a topic with the codec and schema of its values.
type Endpoint struct {
	Topic      string
	Codec      string // avro, json_schema, protobuf, json, string or bytes
	SchemaFile string
	// Schema is the Avro schema: the reader schema of an input, the writer
	// schema of an output.
	Schema avro.Schema
	// JSONSchema is the schema of a json_schema endpoint: outputs are
	// validated against it, and expressions checked against its properties.
	JSONSchema *codecs.JSONSchemaDoc
	// Proto is the message type of a protobuf endpoint (Message names it
	// when the .proto file holds several).
	Proto   *codecs.ProtoMessage
	Message string
}

// SchemaName is the record name subjects are derived from under the record
// subject strategies: the Avro record's full name, the Protobuf message's,
// the JSON Schema's title ("" when unknown).
func (e Endpoint) SchemaName() string {
	switch {
	case e.Codec == CodecAvro && e.Schema != nil:
		if n, ok := e.Schema.(avro.NamedSchema); ok {
			return n.FullName()
		}
	case e.Codec == CodecProtobuf && e.Proto != nil:
		return string(e.Proto.Message.FullName())
	case e.Codec == CodecJSONSchema && e.JSONSchema != nil:
		return e.JSONSchema.Name()
	}
	return ""
}

// Registered reports whether the endpoint's values go through the schema
// registry (avro, json_schema, protobuf).
func (e Endpoint) Registered() bool {
	switch e.Codec {
	case CodecAvro, CodecJSONSchema, CodecProtobuf:
		return true
	}
	return false
}

// SchemaType is the registry's schemaType of the endpoint's schema (AVRO,
// JSON, PROTOBUF), "" for an endpoint without a registered schema.
func (e Endpoint) SchemaType() string {
	switch e.Codec {
	case CodecAvro:
		return "AVRO"
	case CodecJSONSchema:
		return "JSON"
	case CodecProtobuf:
		return "PROTOBUF"
	}
	return ""
}

// HasSchema reports whether the endpoint's schema file was read.
func (e Endpoint) HasSchema() bool {
	return e.Schema != nil || e.JSONSchema != nil || e.Proto != nil
}

// Input is the topic a pipeline consumes.
type Input struct {
	Endpoint
}

// Output is a topic a pipeline writes.
type Output struct {
	Name string
	Endpoint
}

// State is the pipeline's group table.
type State struct {
	SchemaFile string
	Schema     avro.Schema
	// CacheEntries is how many decoded table entries each partition keeps
	// in memory (0: none), so that a hot key is not read from the table and
	// decoded at every message.
	CacheEntries int
}

// DefaultStateCacheEntries is the per-partition entry cache of a state that
// does not set one: a few MB per partition for states of a few fields.
const DefaultStateCacheEntries = 10_000

// Retry is how transient failures are retried.
type Retry struct {
	// Attempts is how many times a message is tried before it is
	// dead-lettered as exhausted (1 = no retry).
	Attempts       int
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

// Breaker is a pipeline's dead-letter circuit breaker: when dead letters of
// one stage and kind reach Ratio of the messages of the last Window (and the
// window holds at least MinMessages messages), the pipeline stops
// dead-lettering and holds its partitions until a held message succeeds.
// Such a flood says more about a dependency (a registry that lost its
// schemas, a broken lookup) than about the messages.
type Breaker struct {
	// Off disables the breaker: every failure is dead-lettered.
	Off         bool
	Ratio       float64
	MinMessages int
	Window      time.Duration
}

// Step is one configured step.
type Step struct {
	Type  string
	Pos   config.Pos
	Retry Retry
	Impl  processors.Step
	// Table is the pipeline a lookup step reads (for the graph).
	Table string
}

// Codec names.
const (
	CodecAvro       = "avro"
	CodecJSONSchema = "json_schema"
	CodecProtobuf   = "protobuf"
	CodecJSON       = "json"
	CodecString     = "string"
	CodecBytes      = "bytes"
)

// Partitioner names.
const (
	PartitionerMurmur2 = partition.Murmur2Name
	PartitionerFNV1a   = partition.FNV1aName
	PartitionerCRC32   = partition.CRC32Name
)
