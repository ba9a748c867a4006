package registry

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"
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

// avroNormalForm is the form in which two Avro schemas are "the same schema"
// (same id, no new version) exactly when they parse to the same Avro schema.
//
// It is hamba/avro's JSON rendering of the parsed schema: every named type and
// alias by its full name (so `"name":"U","namespace":"x.y"` and `"name":"x.y.U"`
// agree), attributes in a fixed order (name, aliases, doc, type, then the
// type's own attributes, default, order, then any other properties sorted by
// key), no whitespace, a named type defined once and then referred to by name.
// Unlike Avro's Parsing Canonical Form (which hamba's Fingerprint and String
// use) it keeps defaults, doc, aliases, logical types, field order and custom
// properties: Confluent's registry, too, tells apart schemas that differ in
// any of them (it compares the full Schema.toString()). Defaults are compared
// as values: 1 and 1.0 for a double field are the same default.
func avroNormalForm(s avro.Schema) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("rendering the normal form: %w", err)
	}
	return string(b), nil
}

// normalizeText returns a form of a JSON schema text in which whitespace and object
// key order do not matter; text that is not a single JSON value is only trimmed.
// It is the identity of stored schemas that cannot be parsed as Avro (another
// schema type written by a Confluent registry, or a broken reference).
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

// identityKey identifies "the same schema": same type, same normal form, same
// references. It is a SHA-256 digest, so that comparing and indexing keys costs
// the same whatever the schema's size.
func identityKey(schemaType, normal string, refs []reference) string {
	h := sha256.New()
	h.Write([]byte(canonicalType(schemaType)))
	h.Write([]byte{0})
	h.Write([]byte(normal))
	for _, r := range refs {
		h.Write([]byte{0})
		h.Write([]byte(r.Name))
		h.Write([]byte{1})
		h.Write([]byte(r.Subject))
		h.Write([]byte{1})
		h.Write([]byte(strconv.Itoa(r.Version)))
	}
	return string(h.Sum(nil))
}

// textKey identifies a schema text exactly as written, with its type and references.
func textKey(schemaType, text string, refs []reference) string {
	return identityKey(schemaType, text, refs)
}
