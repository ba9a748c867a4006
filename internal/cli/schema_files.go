package cli

import (
	"path/filepath"
	"strings"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/registry/regclient"
)

// Schema types of --schema-type, and the registry's names for them.
const (
	schemaTypeAvro     = "avro"
	schemaTypeJSON     = "json"
	schemaTypeProtobuf = "protobuf"
)

// schemaFileType returns the registry schema type (AVRO, JSON, PROTOBUF) of
// a schema file by its extension: .avsc, .json, .proto; "" for another.
func schemaFileType(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".avsc":
		return regclient.TypeAvro
	case ".json":
		return regclient.TypeJSON
	case ".proto":
		return regclient.TypeProtobuf
	}
	return ""
}

// schemaCodec returns the codec that writes values of the schema file path,
// of type flag (--schema-type) or else by its extension; a file of another
// extension is Avro, as --schema always was.
func schemaCodec(path, flag string) (string, error) {
	t := ""
	switch strings.ToLower(flag) {
	case "":
		if t = schemaFileType(path); t == "" {
			t = regclient.TypeAvro
		}
	case schemaTypeAvro:
		t = regclient.TypeAvro
	case schemaTypeJSON, "json_schema":
		t = regclient.TypeJSON
	case schemaTypeProtobuf:
		t = regclient.TypeProtobuf
	default:
		return "", usagef("--schema-type must be avro, json or protobuf, got %q", flag)
	}
	return codecOfType(t), nil
}

// codecOfType is the codec name of a registry schema type.
func codecOfType(t string) string {
	switch t {
	case regclient.TypeJSON:
		return codecJSONSchema
	case regclient.TypeProtobuf:
		return codecProtobuf
	}
	return codecAvro
}

// newSchemaEncoder returns the JSON Schema or Protobuf codec of a schema
// file, registering under <topic>-value.
func newSchemaEncoder(conn connFlags, path, codec, message, topic string) (registeredEncoder, error) {
	reg, err := conn.newRegistryClient()
	if err != nil {
		return nil, err
	}
	opt := codecs.WithSubject(topic, codecs.TopicNameStrategy)
	if codec == codecProtobuf {
		pm, err := codecs.ParseProtoFile(path, message)
		if err != nil {
			return nil, usagef("--schema: %v", err)
		}
		c, err := codecs.NewProtobuf(reg, pm, opt)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	doc, err := codecs.ParseJSONSchemaFile(path)
	if err != nil {
		return nil, usagef("--schema: %v", err)
	}
	c, err := codecs.NewJSONSchema(reg, doc, opt)
	if err != nil {
		return nil, err
	}
	return c, nil
}
