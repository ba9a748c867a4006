package codecs

import (
	"fmt"

	"github.com/hamba/avro/v2"
)

// SubjectStrategy names the registry subject a topic's schema is registered under.
type SubjectStrategy int

const (
	// TopicNameStrategy (the default): "<topic>-key" / "<topic>-value".
	TopicNameStrategy SubjectStrategy = iota
	// RecordNameStrategy: the record's full name.
	RecordNameStrategy
	// TopicRecordNameStrategy: "<topic>-<record full name>".
	TopicRecordNameStrategy
)

func (s SubjectStrategy) String() string {
	switch s {
	case TopicNameStrategy:
		return "TopicNameStrategy"
	case RecordNameStrategy:
		return "RecordNameStrategy"
	case TopicRecordNameStrategy:
		return "TopicRecordNameStrategy"
	}
	return fmt.Sprintf("SubjectStrategy(%d)", int(s))
}

// Subject returns the subject for a topic's key or value schema under strategy.
// The record strategies need a named schema (record, enum or fixed); for any other schema
// they fall back to the topic name strategy.
func Subject(strategy SubjectStrategy, topic string, isKey bool, schema avro.Schema) string {
	name := ""
	if schema != nil {
		if ref, ok := schema.(*avro.RefSchema); ok {
			schema = ref.Schema()
		}
		if n, ok := schema.(avro.NamedSchema); ok {
			name = n.FullName()
		}
	}
	return SubjectNamed(strategy, topic, isKey, name)
}

// SubjectNamed is Subject for a schema whose record name is name (a
// Protobuf message's full name, a JSON Schema's title; "" when it has none).
func SubjectNamed(strategy SubjectStrategy, topic string, isKey bool, name string) string {
	switch {
	case strategy == RecordNameStrategy && name != "":
		return name
	case strategy == TopicRecordNameStrategy && name != "":
		return topic + "-" + name
	case isKey:
		return topic + "-key"
	default:
		return topic + "-value"
	}
}
