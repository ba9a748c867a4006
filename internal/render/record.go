// Package render turns Kafka records into the JSON lines that `sluice
// consume` and `sluice dlq inspect` print: one Record type, and one way to
// render keys, headers and values (JSON as JSON, other text as a string,
// anything else as base64). Which codec decodes a value is the caller's
// business; render only shows the result.
//
// It must not import pipeline, the CLI, internal/dlq, goka or sarama.
// The rules are checked by TestImportRules (arch_test.go).
package render

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Record is the JSON line printed for one record. Consume prints the
// record's own topic, partition, offset and timestamp; dlq inspect prints
// the source message's there, says in DLQ where the dead letter itself is,
// and adds the dead-letter fields. A field only one of them prints is
// omitted when empty, so that the other never shows it.
type Record struct {
	DLQ      *Position `json:"dlq,omitempty"`
	Pipeline string    `json:"pipeline,omitempty"`
	Stage    string    `json:"stage,omitempty"`
	Kind     string    `json:"kind,omitempty"`
	Message  string    `json:"message,omitempty"`

	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Timestamp int64  `json:"timestamp"` // Unix ms

	Attempts    int `json:"attempts,omitempty"`
	SchemaID    int `json:"schema_id,omitempty"`
	ReplayCount int `json:"replay_count,omitempty"`

	Key         *string           `json:"key"`
	KeyBase64   string            `json:"key_base64,omitempty"`
	Headers     map[string]string `json:"headers"`
	Value       json.RawMessage   `json:"value,omitempty"`
	ValueBase64 string            `json:"value_base64,omitempty"`
	// ValueError (dlq inspect) and Error (consume) say why the value is
	// shown raw; each command has always used its own name.
	ValueError string `json:"value_error,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Position is where a record is.
type Position struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Timestamp int64  `json:"timestamp"` // Unix ms
}

// At returns the position of r.
func At(r *kgo.Record) Position {
	return Position{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp.UnixMilli()}
}

// NewRecord returns the JSON line of r with its value rendered as v: r's
// position, key and headers (the last one wins on duplicates), v's value
// and v.Error in Error.
func NewRecord(r *kgo.Record, v Value) Record {
	p := At(r)
	out := Record{
		Topic: p.Topic, Partition: p.Partition, Offset: p.Offset, Timestamp: p.Timestamp,
		Headers: make(map[string]string, len(r.Headers)),
		Value:   v.JSON, ValueBase64: v.Base64, Error: v.Error,
	}
	out.Key, out.KeyBase64 = Key(r.Key)
	for _, h := range r.Headers {
		out.Headers[h.Key] = string(h.Value)
	}
	return out
}

// Key returns a UTF-8 key as a string, any other as base64, and a null key
// as neither.
func Key(k []byte) (*string, string) {
	switch {
	case k == nil:
		return nil, ""
	case utf8.Valid(k):
		s := string(k)
		return &s, ""
	default:
		return nil, base64.StdEncoding.EncodeToString(k)
	}
}

// NewEncoder returns a JSON encoder on w that keeps <, > and & as they are,
// as every JSON line sluice prints does.
func NewEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}
