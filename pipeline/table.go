package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
)

// TableEntry is a key's value in a pipeline's group table: the state, and
// the source position of the last message applied to it. The position makes
// state updates idempotent: a message redelivered after a crash, at or
// before that position, is recognised and not applied twice.
type TableEntry struct {
	State     map[string]any
	Partition int32
	Offset    int64
}

// tableCodec stores entries as JSON, the state in the same JSON form the
// HTTP state endpoint shows, and restores canonical values on decode by
// coercing to the state schema.
type tableCodec struct {
	schema avro.Schema
}

type tableJSON struct {
	State     map[string]any `json:"state"`
	Partition int32          `json:"partition"`
	Offset    int64          `json:"offset"`
}

// encodedEntry is a table entry the handler has encoded already (to check its
// size before it writes it); the codec passes it through.
type encodedEntry []byte

func (c tableCodec) Encode(value any) ([]byte, error) {
	if b, ok := value.(encodedEntry); ok {
		return b, nil
	}
	e, ok := value.(*TableEntry)
	if !ok {
		return nil, fmt.Errorf("table codec: got %T, want *TableEntry", value)
	}
	state, _ := codecs.ToJSON(e.State).(map[string]any)
	return json.Marshal(tableJSON{State: state, Partition: e.Partition, Offset: e.Offset})
}

func (c tableCodec) Decode(data []byte) (any, error) {
	var tj tableJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&tj); err != nil {
		return nil, fmt.Errorf("decoding table entry: %w", err)
	}
	state, err := codecs.Coerce(c.schema, tj.State)
	if err != nil {
		return nil, fmt.Errorf("decoding table entry: %w", err)
	}
	m, _ := state.(map[string]any)
	return &TableEntry{State: m, Partition: tj.Partition, Offset: tj.Offset}, nil
}
