package pipeline

import (
	"github.com/hamba/avro/v2"
	"github.com/lovoo/goka"
)

// TableCodec is the codec of a group table whose state has schema, for tests
// that write a table's changelog themselves.
func TableCodec(schema avro.Schema) goka.Codec { return tableCodec{schema: schema} }
