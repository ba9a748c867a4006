package registry

import "context"

// Store keeps the registry's schemas, versions and compatibility configs.
//
// The interface is closed: use NewMemoryStore or NewKafkaStore. Both keep the
// same in-memory state and differ only in how a write is made durable.
type Store interface {
	// view runs fn with a consistent, read-only view of the state.
	view(fn func(st *state))
	// update serialises writers: fn reads the current state and returns the
	// entries to persist; update returns once they are visible to view.
	update(ctx context.Context, fn func(st *state) ([]entry, error)) error
}

type entryKind int

const (
	entrySchema        entryKind = iota // a subject version; nil schema = permanent delete
	entryConfig                         // a compatibility level; "" level = delete, "" subject = global
	entryDeleteSubject                  // soft-deletes every version <= version of subject
)

// entry is one mutation of the state; it maps one to one onto a record of the
// Kafka `_schemas` topic.
type entry struct {
	kind    entryKind
	subject string
	version int
	schema  *schemaValue
	level   string
}

// schemaValue is one version of a subject, as stored (and as the value of a
// SCHEMA record in `_schemas`).
type schemaValue struct {
	Subject    string      `json:"subject"`
	Version    int         `json:"version"`
	ID         int         `json:"id"`
	SchemaType string      `json:"schemaType,omitempty"`
	References []reference `json:"references,omitempty"`
	Schema     string      `json:"schema"`
	Deleted    bool        `json:"deleted"`
}
