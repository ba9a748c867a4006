package registry

import (
	"encoding/json"
	"fmt"
)

// Key types of the `_schemas` topic, in Confluent's format.
const (
	keySchema        = "SCHEMA"
	keyConfig        = "CONFIG"
	keyDeleteSubject = "DELETE_SUBJECT"
	keyNoop          = "NOOP"
)

// Keys are structs, not maps, so that their field order (and so their bytes, the
// compaction key) is fixed: keytype, subject, version, magic, as Confluent writes them.
type schemaKey struct {
	KeyType string `json:"keytype"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
	Magic   int    `json:"magic"`
}

type subjectKey struct { // CONFIG (subject omitted for the global config) and DELETE_SUBJECT
	KeyType string `json:"keytype"`
	Subject string `json:"subject,omitempty"`
	Magic   int    `json:"magic"`
}

type noopKey struct {
	KeyType string `json:"keytype"`
	Magic   int    `json:"magic"`
}

type configValue struct {
	CompatibilityLevel string `json:"compatibilityLevel"`
}

type deleteSubjectValue struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// anyKey decodes every key type; unknown fields are ignored.
type anyKey struct {
	KeyType string  `json:"keytype"`
	Subject *string `json:"subject"`
	Version int     `json:"version"`
}

// encodeEntry returns the key and value (nil for a tombstone) of e's record.
func encodeEntry(e entry) (key, value []byte, err error) {
	switch e.kind {
	case entrySchema:
		key, err = json.Marshal(schemaKey{keySchema, e.subject, e.version, 1})
		if err == nil && e.schema != nil {
			value, err = json.Marshal(e.schema)
		}
	case entryConfig:
		key, err = json.Marshal(subjectKey{keyConfig, e.subject, 0})
		if err == nil && e.level != "" {
			value, err = json.Marshal(configValue{e.level})
		}
	case entryDeleteSubject:
		key, err = json.Marshal(subjectKey{keyDeleteSubject, e.subject, 0})
		if err == nil {
			value, err = json.Marshal(deleteSubjectValue{e.subject, e.version})
		}
	default:
		err = fmt.Errorf("unknown entry kind %d", e.kind)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("encoding %s record: %w", e.subject, err)
	}
	return key, value, nil
}

func noopRecordKey() []byte {
	b, _ := json.Marshal(noopKey{keyNoop, 0})
	return b
}

// decodeRecord turns a `_schemas` record into an entry; ok is false for records
// that change nothing (NOOP, unknown key types, DELETE_SUBJECT tombstones).
func decodeRecord(key, value []byte) (e entry, ok bool, err error) {
	var k anyKey
	if err := json.Unmarshal(key, &k); err != nil {
		return entry{}, false, fmt.Errorf("decoding key %q: %w", key, err)
	}
	subject := ""
	if k.Subject != nil {
		subject = *k.Subject
	}
	switch k.KeyType {
	case keySchema:
		e = entry{kind: entrySchema, subject: subject, version: k.Version}
		if value != nil {
			var v schemaValue
			if err := json.Unmarshal(value, &v); err != nil {
				return entry{}, false, fmt.Errorf("decoding value of %s: %w", key, err)
			}
			e.schema = &v
		}
		return e, true, nil
	case keyConfig:
		e = entry{kind: entryConfig, subject: subject}
		if value != nil {
			var v configValue
			if err := json.Unmarshal(value, &v); err != nil {
				return entry{}, false, fmt.Errorf("decoding value of %s: %w", key, err)
			}
			if v.CompatibilityLevel != "" {
				level, valid := parseLevel(v.CompatibilityLevel)
				if !valid {
					return entry{}, false, fmt.Errorf("record %s: unknown compatibility level %q", key, v.CompatibilityLevel)
				}
				e.level = level
			}
		}
		return e, true, nil
	case keyDeleteSubject:
		if value == nil {
			return entry{}, false, nil
		}
		var v deleteSubjectValue
		if err := json.Unmarshal(value, &v); err != nil {
			return entry{}, false, fmt.Errorf("decoding value of %s: %w", key, err)
		}
		return entry{kind: entryDeleteSubject, subject: subject, version: v.Version}, true, nil
	default:
		return entry{}, false, nil
	}
}
