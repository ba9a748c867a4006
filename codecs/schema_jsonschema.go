package codecs

import (
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/sluicehq/sluice/internal/bounded"
	"github.com/sluicehq/sluice/internal/schemafmt"
)

// JSONSchemaDoc is a compiled JSON Schema.
type JSONSchemaDoc struct {
	// Text is the schema document, as registered.
	Text string
	// Schema is the compiled root schema.
	Schema *jsonschema.Schema
}

// ParseJSONSchema compiles a JSON Schema document as the registry does
// (internal/schemafmt): draft-07 unless "$schema" says otherwise, the
// Confluent clients' default; $refs resolve within the document only,
// nothing is loaded from files or the network.
func ParseJSONSchema(text string) (*JSONSchemaDoc, error) {
	return parseJSONSchema(text, nil)
}

// parseJSONSchema compiles a schema whose $refs may name refs (reference
// name -> text), as a writer schema with references.
func parseJSONSchema(text string, refs map[string]string) (*JSONSchemaDoc, error) {
	js, err := schemafmt.CompileJSONSchema(text, refs)
	if err != nil {
		return nil, err
	}
	return &JSONSchemaDoc{Text: text, Schema: js.Schema}, nil
}

// ParseJSONSchemaFile reads and compiles a JSON Schema file; errors name the
// file. A file that is not regular or has more than MaxSchemaFileBytes is
// refused.
func ParseJSONSchemaFile(path string) (*JSONSchemaDoc, error) {
	b, err := bounded.ReadFile(path, MaxSchemaFileBytes)
	if err != nil {
		return nil, fmt.Errorf("reading schema: %w", err)
	}
	d, err := ParseJSONSchema(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Name is the schema's title ("" when it has none): its record name for
// the record subject strategies, as in Confluent's clients.
func (d *JSONSchemaDoc) Name() string { return d.Schema.Title }

// Validate checks v (decoded JSON: map[string]any, []any, string, bool,
// int64, float64, nil) against the schema. A violation is a
// *SchemaViolation naming the JSON pointer of the failing value.
func (d *JSONSchemaDoc) Validate(v any) error {
	err := d.Schema.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("validating: %w", err)
	}
	leaf := ve
	for len(leaf.Causes) > 0 {
		leaf = leaf.Causes[0]
	}
	return &SchemaViolation{
		Pointer: jsonPointer(leaf.InstanceLocation),
		Problem: leaf.ErrorKind.LocalizedString(message.NewPrinter(language.English)),
	}
}

// SchemaViolation is a value that does not match its JSON Schema.
type SchemaViolation struct {
	// Pointer is the JSON pointer (RFC 6901) of the failing value; "" is the
	// whole value.
	Pointer string
	// Problem says what is wrong there.
	Problem string
}

func (e *SchemaViolation) Error() string {
	return fmt.Sprintf("JSON Schema violation at %q: %s", e.Pointer, e.Problem)
}

func jsonPointer(loc []string) string {
	var b strings.Builder
	for _, seg := range loc {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(seg, "~", "~0"), "/", "~1"))
	}
	return b.String()
}
