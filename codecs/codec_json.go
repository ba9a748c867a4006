package codecs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// JSON is a goka.Codec for JSON values.
//
// Decode parses one JSON value: an object becomes map[string]any, an array []any. Numbers
// become int64 when written as an integer (no fraction, no exponent) that fits int64, else
// float64; json.Number never escapes. Empty input, invalid JSON and trailing data are
// poison.
//
// Encode renders ToJSON(v): time.Time as Unix milliseconds, []byte as a string, *big.Rat as
// a decimal string. A nil value encodes to nil (a tombstone).
type JSON struct{}

// Encode renders v as JSON.
func (JSON) Encode(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(ToJSON(v))
	if err != nil {
		return nil, poison("encode", 0, fmt.Errorf("json: %w", err))
	}
	return b, nil
}

// Decode parses data.
func (JSON) Decode(data []byte) (any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, poison("decode", 0, errors.New("json: empty value"))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, poison("decode", 0, fmt.Errorf("json: %w", err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, poison("decode", 0, errors.New("json: trailing data after the value"))
	}
	return fromJSONNumbers(v), nil
}

// fromJSONNumbers replaces json.Number by int64 (integers that fit) or float64, in place.
func fromJSONNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return i
			}
		}
		f, _ := strconv.ParseFloat(s, 64) // valid JSON number: only range errors, giving ±Inf
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = fromJSONNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = fromJSONNumbers(e)
		}
	}
	return v
}
