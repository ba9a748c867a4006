package registry

import (
	"fmt"
	"strings"

	"github.com/hamba/avro/v2"
)

// maxReferenceDepth bounds reference chains (and so reference cycles).
const maxReferenceDepth = 32

// checkType validates a requested schema type; only AVRO is served.
func checkType(schemaType string) (string, *apiError) {
	t := canonicalType(schemaType)
	switch t {
	case typeAvro:
		return t, nil
	case typeJSON, typeProtobuf:
		return "", errInvalidSchema("Schema type %s is not supported by this registry: it stores and checks AVRO schemas only (omit schemaType or set it to AVRO)", t)
	default:
		return "", errInvalidSchema("Invalid schema type %q: valid types are AVRO, JSON and PROTOBUF, and this registry supports AVRO only", schemaType)
	}
}

// parseAvro parses an Avro schema text whose named types may come from references,
// each resolved against st. A fresh cache is used for every parse so that named
// types never leak between schemas. A request may only reference live versions;
// a stored schema (storedRefs) may also reference soft-deleted ones, which were
// live when it was registered.
func parseAvro(st *state, text string, refs []reference, storedRefs bool) (avro.Schema, error) {
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("empty schema")
	}
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

// identifyAvro parses an Avro schema (see parseAvro) and returns it with its identity key.
func identifyAvro(st *state, text string, refs []reference, storedRefs bool) (avro.Schema, string, error) {
	s, err := parseAvro(st, text, refs, storedRefs)
	if err != nil {
		return nil, "", err
	}
	normal, err := avroNormalForm(s)
	if err != nil {
		return nil, "", err
	}
	return s, identityKey(typeAvro, normal, refs), nil
}

func loadReferences(st *state, cache *avro.SchemaCache, refs []reference, storedRefs bool, depth int) error {
	if len(refs) > 0 && depth >= maxReferenceDepth {
		return fmt.Errorf("schema references nest deeper than %d levels", maxReferenceDepth)
	}
	for _, r := range refs {
		v, ok := st.version(r.Subject, r.Version)
		if !ok || (v.Deleted && !storedRefs) {
			return fmt.Errorf("reference %q: subject %q version %d not found", r.Name, r.Subject, r.Version)
		}
		if canonicalType(v.SchemaType) != typeAvro {
			return fmt.Errorf("reference %q: subject %q version %d is %s, not AVRO", r.Name, r.Subject, r.Version, canonicalType(v.SchemaType))
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
