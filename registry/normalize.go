package registry

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Schema types of the REST contract.
const (
	typeAvro     = "AVRO"
	typeJSON     = "JSON"
	typeProtobuf = "PROTOBUF"
)

// reference is a schema reference: a named type defined by another subject's version.
type reference struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// canonicalType maps the wire schemaType (absent means AVRO) to its upper-case name.
func canonicalType(t string) string {
	if t == "" {
		return typeAvro
	}
	return strings.ToUpper(t)
}

// normalizeText returns a form of a JSON schema text in which whitespace and object
// key order do not matter; text that is not a single JSON value is only trimmed.
func normalizeText(text string) string {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return strings.TrimSpace(text)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // maps encode with sorted keys
		return strings.TrimSpace(text)
	}
	return strings.TrimSpace(buf.String())
}

// identityKey identifies "the same schema": same type, same normalised text, same references.
func identityKey(schemaType, text string, refs []reference) string {
	var b strings.Builder
	b.WriteString(canonicalType(schemaType))
	b.WriteByte(0)
	b.WriteString(normalizeText(text))
	for _, r := range refs {
		b.WriteByte(0)
		b.WriteString(r.Name)
		b.WriteByte(1)
		b.WriteString(r.Subject)
		b.WriteByte(1)
		b.WriteString(strconv.Itoa(r.Version))
	}
	return b.String()
}
