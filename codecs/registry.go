package codecs

import (
	"context"

	"github.com/sluicehq/sluice/registry/regclient"
)

// Registry is what the Avro codec asks of a schema registry; *regclient.Client
// implements it. Each call gets the context of the message it serves, so a
// stopping pipeline does not wait for the registry.
//
// The codec treats a failure as poison only when regclient.IsNotFound says
// the registry answered that the schema, subject or version does not exist;
// an implementation reports those answers as *regclient.Error. Every other
// failure is transient.
type Registry interface {
	// SchemaByID returns the schema registered under id.
	SchemaByID(ctx context.Context, id int) (regclient.Schema, error)
	// Register registers the Avro schema under subject and returns its id.
	Register(ctx context.Context, subject, schema string) (int, error)
	// Lookup returns the id and version of the Avro schema under subject.
	Lookup(ctx context.Context, subject, schema string) (id, version int, err error)
}

var _ Registry = (*regclient.Client)(nil)
