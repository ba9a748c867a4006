package regclient

import (
	"context"
	"fmt"
	"net/url"

	"github.com/twmb/franz-go/pkg/sr"
)

// Schema types, as the registry spells them in "schemaType".
const (
	TypeAvro     = "AVRO"
	TypeJSON     = "JSON"
	TypeProtobuf = "PROTOBUF"
)

// Reference is a schema's reference to another registered schema: the name
// the schema uses for it (a $ref URL, an import path, a type name) and the
// subject and version it is registered under.
type Reference struct {
	Name    string
	Subject string
	Version int
}

func references(refs []sr.SchemaReference) []Reference {
	if len(refs) == 0 {
		return nil
	}
	out := make([]Reference, len(refs))
	for i, r := range refs {
		out[i] = Reference{Name: r.Name, Subject: r.Subject, Version: r.Version}
	}
	return out
}

// srType maps a schema type name ("" is AVRO) to franz-go's enum.
func srType(schemaType string) (sr.SchemaType, error) {
	switch schemaType {
	case "", TypeAvro:
		return sr.TypeAvro, nil
	case TypeJSON:
		return sr.TypeJSON, nil
	case TypeProtobuf:
		return sr.TypeProtobuf, nil
	}
	return 0, fmt.Errorf("schema registry: unknown schema type %q (AVRO, JSON or PROTOBUF)", schemaType)
}

// RegisterAs is Register for a schema of schemaType (AVRO, JSON or
// PROTOBUF; "" is AVRO).
func (c *Client) RegisterAs(ctx context.Context, subject, schemaType, schema string) (int, error) {
	t, err := srType(schemaType)
	if err != nil {
		return 0, err
	}
	id, err := c.sr.RegisterSchema(ctx, subject, sr.Schema{Schema: schema, Type: t}, -1, -1)
	if err != nil {
		return 0, c.fail(err)
	}
	if id < 1 {
		return 0, c.notRegistry("/subjects/"+url.PathEscape(subject)+"/versions", "no id")
	}
	return id, nil
}

// LookupAs is Lookup for a schema of schemaType.
func (c *Client) LookupAs(ctx context.Context, subject, schemaType, schema string) (id, version int, err error) {
	t, err := srType(schemaType)
	if err != nil {
		return 0, 0, err
	}
	s, err := c.sr.LookupSchema(ctx, subject, sr.Schema{Schema: schema, Type: t})
	if err != nil {
		return 0, 0, c.fail(err)
	}
	if s.ID < 1 {
		return 0, 0, c.notRegistry("/subjects/"+url.PathEscape(subject), "no id")
	}
	return s.ID, s.Version, nil
}

// CheckCompatibilityAs is CheckCompatibility for a schema of schemaType.
func (c *Client) CheckCompatibilityAs(ctx context.Context, subject string, version int, schemaType, schema string) (compatible bool, messages []string, err error) {
	if err := checkVersion(version); err != nil {
		return false, nil, err
	}
	t, err := srType(schemaType)
	if err != nil {
		return false, nil, err
	}
	res, err := c.sr.CheckCompatibility(sr.WithParams(ctx, sr.Verbose), subject, version, sr.Schema{Schema: schema, Type: t})
	if err != nil {
		return false, nil, c.fail(err)
	}
	return res.Is, res.Messages, nil
}
