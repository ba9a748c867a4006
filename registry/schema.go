package registry

import (
	"fmt"
	"strings"

	"github.com/hamba/avro/v2"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluicehq/sluice/internal/schemafmt"
)

// maxReferenceDepth bounds reference chains (and so reference cycles).
const maxReferenceDepth = 32

// checkType validates a requested schema type (absent means AVRO).
func checkType(schemaType string) (string, *apiError) {
	t := canonicalType(schemaType)
	switch t {
	case typeAvro, typeJSON, typeProtobuf:
		return t, nil
	}
	return "", errInvalidSchema("Invalid schema type %q: valid types are AVRO, JSON and PROTOBUF", schemaType)
}

// wireType is the schemaType of a stored or answered schema: omitted for AVRO, as Confluent writes it.
func wireType(t string) string {
	if t = canonicalType(t); t == typeAvro {
		return ""
	}
	return t
}

// parsedSchema is a schema parsed with its references; the field of its type is set.
// It is never modified, so it may be used after the store's lock is released.
type parsedSchema struct {
	schemaType string
	avro       avro.Schema
	json       *schemafmt.JSONSchema
	proto      protoreflect.FileDescriptor
}

// normalForm is the form in which two schemas of the type are the same schema.
func (p *parsedSchema) normalForm(text string) (string, error) {
	switch p.schemaType {
	case typeAvro:
		return avroNormalForm(p.avro)
	case typeProtobuf:
		return schemafmt.ProtobufNormalForm(p.proto)
	default: // JSON: the document with sorted keys and no whitespace, as Confluent's canonical JSON
		return normalizeText(text), nil
	}
}

// parseSchema parses a schema text of a type whose references are resolved
// against st. A request may only reference live versions; a stored schema
// (storedRefs) may also reference soft-deleted ones, which were live when it
// was registered.
func parseSchema(st *state, schemaType, text string, refs []reference, storedRefs bool) (*parsedSchema, error) {
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("empty schema")
	}
	p := &parsedSchema{schemaType: schemaType}
	var err error
	switch schemaType {
	case typeAvro:
		p.avro, err = parseAvro(st, text, refs, storedRefs)
		return p, err
	}
	texts := map[string]string{}
	if err := referencedTexts(st, schemaType, refs, storedRefs, 0, texts); err != nil {
		return nil, err
	}
	switch schemaType {
	case typeJSON:
		p.json, err = schemafmt.CompileJSONSchema(text, texts)
	case typeProtobuf:
		p.proto, err = schemafmt.CompileProtobuf(text, texts)
	default:
		err = fmt.Errorf("unknown schema type %s", schemaType)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// identify parses a schema (see parseSchema) and returns it with its identity key.
func identify(st *state, schemaType, text string, refs []reference, storedRefs bool) (*parsedSchema, string, error) {
	p, err := parseSchema(st, schemaType, text, refs, storedRefs)
	if err != nil {
		return nil, "", err
	}
	normal, err := p.normalForm(text)
	if err != nil {
		return nil, "", err
	}
	return p, identityKey(schemaType, normal, refs), nil
}

// resolveReference finds the version a reference names, of the referring schema's type.
func resolveReference(st *state, schemaType string, r reference, storedRefs bool) (schemaValue, error) {
	v, ok := st.version(r.Subject, r.Version)
	if !ok || (v.Deleted && !storedRefs) {
		return schemaValue{}, fmt.Errorf("reference %q: subject %q version %d not found", r.Name, r.Subject, r.Version)
	}
	if t := canonicalType(v.SchemaType); t != schemaType {
		return schemaValue{}, fmt.Errorf("reference %q: subject %q version %d is %s, not %s", r.Name, r.Subject, r.Version, t, schemaType)
	}
	return v, nil
}

// referencedTexts adds to texts the text of every schema refs name,
// transitively, by the name it is referenced by (the first one wins).
func referencedTexts(st *state, schemaType string, refs []reference, storedRefs bool, depth int, texts map[string]string) error {
	if len(refs) > 0 && depth >= maxReferenceDepth {
		return fmt.Errorf("schema references nest deeper than %d levels", maxReferenceDepth)
	}
	for _, r := range refs {
		if r.Name == "" {
			return fmt.Errorf("reference to subject %q version %d has no name", r.Subject, r.Version)
		}
		v, err := resolveReference(st, schemaType, r, storedRefs)
		if err != nil {
			return err
		}
		if _, seen := texts[r.Name]; seen {
			continue
		}
		texts[r.Name] = v.Schema
		if err := referencedTexts(st, schemaType, v.References, storedRefs, depth+1, texts); err != nil {
			return err
		}
	}
	return nil
}

// parseAvro parses an Avro schema text whose named types may come from references.
// A fresh cache is used for every parse so that named types never leak between schemas.
func parseAvro(st *state, text string, refs []reference, storedRefs bool) (avro.Schema, error) {
	cache := &avro.SchemaCache{}
	if err := loadReferences(st, cache, refs, storedRefs, 0); err != nil {
		return nil, err
	}
	s, err := avro.ParseWithCache(text, "", cache)
	if err != nil {
		return nil, fmt.Errorf("parsing avro schema: %w", err)
	}
	return s, nil
}

func loadReferences(st *state, cache *avro.SchemaCache, refs []reference, storedRefs bool, depth int) error {
	if len(refs) > 0 && depth >= maxReferenceDepth {
		return fmt.Errorf("schema references nest deeper than %d levels", maxReferenceDepth)
	}
	for _, r := range refs {
		v, err := resolveReference(st, typeAvro, r, storedRefs)
		if err != nil {
			return err
		}
		if err := loadReferences(st, cache, v.References, storedRefs, depth+1); err != nil {
			return err
		}
		if _, err := avro.ParseWithCache(v.Schema, "", cache); err != nil {
			return fmt.Errorf("reference %q: parsing subject %q version %d: %w", r.Name, r.Subject, r.Version, err)
		}
	}
	return nil
}
