package render

import (
	"encoding/base64"
	"encoding/json"
	"unicode/utf8"
)

// Value is a record value rendered for display: at most one of JSON and
// Base64 is set.
type Value struct {
	// JSON is the value as JSON: the decoded record for Avro, the value
	// itself when it is JSON, a JSON string for other UTF-8 text and null
	// for a null value.
	JSON json.RawMessage
	// Base64 holds a value that is not UTF-8, or any value under the bytes
	// codec.
	Base64 string
	// Error says why the value could not be decoded as asked (invalid JSON,
	// an unreachable registry); the value is then shown raw.
	Error string
}

// Null renders a null value (a tombstone).
func Null() Value { return Value{JSON: json.RawMessage("null")} }

// Text renders value as a JSON string when it is UTF-8, else as base64.
func Text(value []byte) Value {
	if !utf8.Valid(value) {
		return Base64(value)
	}
	s, _ := json.Marshal(string(value)) // a string always marshals
	return Value{JSON: s}
}

// Base64 renders value as base64.
func Base64(value []byte) Value {
	return Value{Base64: base64.StdEncoding.EncodeToString(value)}
}

// JSON renders a JSON value as it is, and anything else as Text with an
// error.
func JSON(value []byte) Value {
	if !json.Valid(value) {
		return Text(value).WithError("value is not valid JSON")
	}
	return Value{JSON: value}
}

// Guess renders a value whose codec is unknown: null, JSON as it is, other
// UTF-8 as a string, anything else as base64.
func Guess(value []byte) Value {
	switch {
	case value == nil:
		return Null()
	case json.Valid(value):
		return Value{JSON: value}
	default:
		return Text(value)
	}
}

// WithError returns v with its Error set to msg.
func (v Value) WithError(msg string) Value {
	v.Error = msg
	return v
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
