package dlq

import (
	"encoding/base64"
	"encoding/json"
	"unicode/utf8"
)

// Value is a dead letter's value rendered for display, as a Decoder made it.
// Exactly one of JSON and Base64 is set.
type Value struct {
	// JSON is the value as JSON: the decoded record for Avro, the value
	// itself when it is JSON, a JSON string for other UTF-8 text and null
	// for a null value.
	JSON json.RawMessage
	// Base64 holds a value that is not UTF-8.
	Base64 string
	// Error says why the value could not be decoded as its frame claims
	// (for example an unreachable registry); the value is then raw.
	Error string
}

// Decoder renders a value for display and for filters. The CLI supplies the
// one `sluice consume` uses (Avro by the frame's writer schema id, JSON,
// else string or base64).
type Decoder func(value []byte) Value

// rawDecoder renders values without a registry: JSON as is, other UTF-8 as a
// string, anything else as base64.
func rawDecoder(value []byte) Value {
	switch {
	case value == nil:
		return Value{JSON: json.RawMessage("null")}
	case json.Valid(value):
		return Value{JSON: value}
	case utf8.Valid(value):
		s, _ := json.Marshal(string(value)) // a string always marshals
		return Value{JSON: s}
	default:
		return Value{Base64: base64.StdEncoding.EncodeToString(value)}
	}
}

// Any returns the value as a Go value for filters: what encoding/json makes
// of JSON (numbers are float64), nil for a null or binary value.
func (v Value) Any() any {
	if len(v.JSON) == 0 {
		return nil
	}
	var out any
	if err := json.Unmarshal(v.JSON, &out); err != nil {
		return nil
	}
	return out
}
