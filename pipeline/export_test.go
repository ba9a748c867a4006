package pipeline

import (
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/lovoo/goka"
)

// TableCodec is the codec of a group table whose state has schema, for tests
// that write a table's changelog themselves.
func TableCodec(t testing.TB, schema avro.Schema) goka.Codec {
	t.Helper()
	c, err := newTableCodec(schema)
	if err != nil {
		t.Fatalf("table codec: %v", err)
	}
	return c
}
