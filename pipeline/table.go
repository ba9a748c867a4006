package pipeline

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sync"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/processors"
)

// TableEntry is a key's value in a pipeline's group table: the state, and
// the source position of the last message applied to it. The position makes
// state updates idempotent: a message redelivered after a crash, at or
// before that position, is recognised and not applied twice.
//
// An entry read from the table is shared (the partition's entry cache hands
// the same one to every message of its key): nothing may change it or its
// State in place; a new state is a new map.
type TableEntry struct {
	State     map[string]any
	Partition int32
	Offset    int64
	// Windows are the key's windows in a pipeline with a window step, nil
	// otherwise.
	Windows *processors.Windows
}

// Table entries are stored in the Confluent wire format, as Avro records of
// an entry schema that wraps the pipeline's state schema:
//
//	byte 0      0, the magic byte
//	bytes 1-4   the entry schema id, big-endian int32:
//	              < 0  a local id: the first four bytes of the SHA-256
//	                   fingerprint of the entry schema's Parsing Canonical
//	                   Form, with the top bit set. Registries number schemas
//	                   from 1, so a local id is never mistaken for one.
//	              > 0  reserved for a registry id, once the entry schema is
//	                   registered under the subject <group>-state-value
//	                   (not written yet).
//	then the Avro binary of record sluice.state.Entry:
//	  partition  int    source partition of the last message applied
//	  offset     long   its offset
//	  history    union {null, sluice.state.History}, always null for now:
//	             room for what identifies the input's history (History
//	             {topic_id: string, generation: long}), so that a reset or a
//	             recreated topic is not taken for a redelivery
//	  state      the pipeline's state schema
//	  windows    array of sluice.state.Window {start: long, end: long,
//	             state: the state schema}: the key's windows, empty in a
//	             pipeline without a window step. In one with, the array
//	             ends with a stream-time mark: {start: the partition's
//	             stream time when the entry was written, end: math.MinInt64
//	             (no window ends there), state: the entry's state}.
//
// Without a registered entry schema an entry can be read only under the
// state schema it was written with: one written under another state schema
// (another local id) fails to decode, naming both ids, rather than being
// misread. Entries that start with '{' are the JSON entries of earlier
// versions, {"state": {...}, "partition": P, "offset": O}; they are still
// read (one release of migration) and rewritten as Avro at the key's next
// change.
//
// tableCodec is the goka.Codec of such entries; it is safe for concurrent use.
type tableCodec struct {
	schema avro.Schema // the state schema
	state  *codecs.Binary
	entry  avro.Schema
	id     int32

	readers sync.Pool // *avro.Reader
	bufs    sync.Pool // *[]byte
}

// entryHeaderSize is the wire-format header: magic byte and schema id.
const entryHeaderSize = 5

// newTableCodec returns the codec of entries with state schema s.
func newTableCodec(s avro.Schema) (*tableCodec, error) {
	entry, err := entrySchema(s)
	if err != nil {
		return nil, err
	}
	fp := entry.Fingerprint()
	c := &tableCodec{
		schema: s,
		state:  codecs.NewBinary(s),
		entry:  entry,
		id:     int32(binary.BigEndian.Uint32(fp[:4]) | 1<<31),
	}
	c.readers.New = func() any { return c.state.NewReader() }
	c.bufs.New = func() any { b := make([]byte, 0, 256); return &b }
	return c, nil
}

// entrySchema is the schema of the entries of state schema s (see tableCodec).
func entrySchema(s avro.Schema) (avro.Schema, error) {
	state, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("state schema: %w", err)
	}
	// The windows' state names the state schema when it is a named type: a
	// name may be defined only once.
	windowState := state
	if n, ok := s.(avro.NamedSchema); ok {
		windowState, _ = json.Marshal(n.FullName())
	}
	text := `{"type": "record", "name": "Entry", "namespace": "sluice.state", "fields": [
  {"name": "partition", "type": "int"},
  {"name": "offset", "type": "long"},
  {"name": "history", "type": ["null", {"type": "record", "name": "History", "fields": [
    {"name": "topic_id", "type": "string"},
    {"name": "generation", "type": "long"}]}], "default": null},
  {"name": "state", "type": ` + string(state) + `},
  {"name": "windows", "type": {"type": "array", "items": {"type": "record", "name": "Window", "fields": [
    {"name": "start", "type": "long"},
    {"name": "end", "type": "long"},
    {"name": "state", "type": ` + string(windowState) + `}]}}, "default": []}]}`
	entry, err := codecs.NewSchemas().Parse(text)
	if err != nil {
		return nil, fmt.Errorf("table entry schema: %w", err)
	}
	return entry, nil
}

// encodedEntry is a table entry the handler has encoded already (to check its
// size before it writes it); the codec passes it (or a pointer to it) through.
type encodedEntry []byte

func (c *tableCodec) Encode(value any) ([]byte, error) {
	switch v := value.(type) {
	case encodedEntry:
		return v, nil
	case *encodedEntry:
		return *v, nil
	case *TableEntry:
		return c.encode(v)
	}
	return nil, fmt.Errorf("table codec: got %T, want *TableEntry", value)
}

func (c *tableCodec) encode(e *TableEntry) ([]byte, error) {
	bp := c.bufs.Get().(*[]byte)
	buf := append((*bp)[:0], 0)
	buf = binary.BigEndian.AppendUint32(buf, uint32(c.id))
	buf = binary.AppendVarint(buf, int64(e.Partition))
	buf = binary.AppendVarint(buf, e.Offset)
	buf = append(buf, 0) // history: the null branch
	buf, err := c.state.Append(buf, e.State)
	if err == nil {
		buf, err = c.appendWindows(buf, e)
	}
	var out []byte
	if err == nil {
		out = bytes.Clone(buf)
	}
	if cap(buf) <= 64<<10 {
		*bp = buf[:0]
		c.bufs.Put(bp)
	}
	if err != nil {
		return nil, fmt.Errorf("encoding table entry: %w", err)
	}
	return out, nil
}

func (c *tableCodec) Decode(data []byte) (any, error) {
	if len(data) > 0 && data[0] == '{' {
		return c.decodeJSON(data)
	}
	id, ok := codecs.FrameSchemaID(data)
	if !ok {
		return nil, fmt.Errorf("decoding table entry: not a JSON entry and not the wire format (%d bytes)", len(data))
	}
	if int32(id) != c.id {
		return nil, fmt.Errorf("decoding table entry: written with entry schema id %d, this state schema's is %d: the state schema changed since the entry was written", id, c.id)
	}
	r := c.readers.Get().(*avro.Reader)
	r.Reset(data[entryHeaderSize:])
	e := &TableEntry{Partition: r.ReadInt(), Offset: r.ReadLong()}
	if branch := r.ReadLong(); r.Error == nil && branch != 0 {
		r.Error = fmt.Errorf("history branch %d: only null is written yet", branch)
	}
	if r.Error == nil {
		e.State, _ = c.state.Read(r).(map[string]any)
	}
	if r.Error == nil {
		e.Windows = c.readWindows(r)
	}
	err := codecs.ReadEnd(r)
	c.readers.Put(r)
	if err != nil {
		return nil, fmt.Errorf("decoding table entry: %w", err)
	}
	return e, nil
}

// windowMarkEnd is the end of the stream-time mark that closes the windows
// of an entry of a pipeline with a window step.
const windowMarkEnd = math.MinInt64

// appendWindows appends the entry's windows array: empty without windows,
// else the windows and the stream-time mark, in one block.
func (c *tableCodec) appendWindows(buf []byte, e *TableEntry) ([]byte, error) {
	if e.Windows == nil {
		return append(buf, 0), nil
	}
	buf = binary.AppendVarint(buf, int64(len(e.Windows.Open)+1))
	var err error
	for _, w := range e.Windows.Open {
		buf = binary.AppendVarint(buf, w.Start)
		buf = binary.AppendVarint(buf, w.End)
		if buf, err = c.state.Append(buf, w.State); err != nil {
			return buf, fmt.Errorf("window [%d, %d): %w", w.Start, w.End, err)
		}
	}
	buf = binary.AppendVarint(buf, e.Windows.StreamTime)
	buf = binary.AppendVarint(buf, windowMarkEnd)
	if buf, err = c.state.Append(buf, e.State); err != nil {
		return buf, err
	}
	return append(buf, 0), nil // the array's end
}

// readWindows reads the windows array: nil when it is empty.
func (c *tableCodec) readWindows(r *avro.Reader) *processors.Windows {
	var ws *processors.Windows
	for {
		n := r.ReadLong()
		if r.Error != nil || n == 0 {
			return ws
		}
		if n < 0 { // a block with its size in bytes
			n = -n
			r.ReadLong()
		}
		if ws == nil {
			ws = &processors.Windows{StreamTime: processors.NoStreamTime}
		}
		for ; n > 0 && r.Error == nil; n-- {
			w := processors.Window{Start: r.ReadLong(), End: r.ReadLong()}
			state, _ := c.state.Read(r).(map[string]any)
			if w.End == windowMarkEnd {
				ws.StreamTime = w.Start
				continue
			}
			w.State = state
			ws.Open = append(ws.Open, w)
		}
	}
}

// tableJSON is the JSON entry of earlier versions.
type tableJSON struct {
	State     map[string]any `json:"state"`
	Partition int32          `json:"partition"`
	Offset    int64          `json:"offset"`
}

// decodeJSON reads a JSON entry of an earlier version, restoring canonical
// values by coercing the state to the state schema.
func (c *tableCodec) decodeJSON(data []byte) (any, error) {
	var tj tableJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&tj); err != nil {
		return nil, fmt.Errorf("decoding JSON table entry: %w", err)
	}
	state, err := codecs.Coerce(c.schema, tj.State)
	if err != nil {
		return nil, fmt.Errorf("decoding JSON table entry: %w", err)
	}
	m, _ := state.(map[string]any)
	return &TableEntry{State: m, Partition: tj.Partition, Offset: tj.Offset}, nil
}
