package codecs

import (
	"fmt"
	"sync"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/internal/bounded"
)

// MaxSchemaFileBytes bounds an .avsc file (the largest schemas in use are
// some 100 kB).
const MaxSchemaFileBytes = 1 << 20

// Schemas is the one place that parses Avro schemas. It owns an avro.SchemaCache (never
// hamba's global DefaultSchemaCache) holding the named types of the schemas given to Parse
// and ParseFile, so a later schema may refer to an earlier one's record by name.
//
// Writer schemas fetched from a registry are self-contained (references are not supported)
// and are parsed in isolation: they never overwrite the named types of local schemas, which
// matters because a writer (v1) and a reader (v2) usually share the record's full name.
// Parsing the same registry text twice returns the same avro.Schema.
//
// A Schemas is safe for concurrent use.
type Schemas struct {
	mu       sync.Mutex // serialises Parse: it updates the shared named-type cache
	cache    *avro.SchemaCache
	isolated sync.Map // schema text -> avro.Schema, for writer schemas
}

// NewSchemas returns an empty schema cache.
func NewSchemas() *Schemas {
	return &Schemas{cache: &avro.SchemaCache{}}
}

// Parse parses an Avro schema (JSON text) and remembers its named types.
func (s *Schemas) Parse(text string) (avro.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sch, err := avro.ParseWithCache(text, "", s.cache)
	if err != nil {
		return nil, fmt.Errorf("parsing schema: %w", err)
	}
	return sch, nil
}

// ParseFile reads and parses an .avsc file; errors name the file. A file
// that is not a regular file or has more than MaxSchemaFileBytes is refused
// (see bounded.ReadFile).
func (s *Schemas) ParseFile(path string) (avro.Schema, error) {
	b, err := bounded.ReadFile(path, MaxSchemaFileBytes)
	if err != nil {
		return nil, fmt.Errorf("reading schema: %w", err)
	}
	sch, err := s.Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sch, nil
}

// parseIsolated parses a self-contained schema (a registry's writer schema) without
// touching the named-type cache; the result is memoised by text.
func (s *Schemas) parseIsolated(text string) (avro.Schema, error) {
	if v, ok := s.isolated.Load(text); ok {
		return v.(avro.Schema), nil
	}
	sch, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("parsing writer schema: %w", err)
	}
	v, _ := s.isolated.LoadOrStore(text, sch)
	return v.(avro.Schema), nil
}
