package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/processors"
	"github.com/sluicehq/sluice/registry/regclient"
)

// TableEntry is a key's value in a pipeline's group table: the state, and
// the source position of the last message applied to it. The position makes
// state updates idempotent: a message redelivered after a crash, at or
// before that position in the same input history, is recognised and not
// applied twice.
//
// An entry read from the table is shared (the partition's entry cache hands
// the same one to every message of its key): nothing may change it or its
// State in place; a new state is a new map.
type TableEntry struct {
	State     map[string]any
	Partition int32
	Offset    int64
	// History is the input history the message was consumed in (zero in
	// entries written before histories were stored).
	History History
	// Windows are the key's windows in a pipeline with a window step, nil
	// otherwise.
	Windows *processors.Windows
}

// badEntry is what the codec decodes a table value it cannot read into.
// Decode never fails: goka fails the processor when a table value does not
// decode, and the same value would fail it again at every restart. The
// handler dead-letters the message that reads a badEntry instead (stage
// state, or lookup for another pipeline's table).
type badEntry struct{ err error }

// StateSubject is the registry subject of the state schema of group: the
// schema of its table entries (sluice.state.Entry with the pipeline's state
// schema inside) is registered under it.
func StateSubject(group string) string { return group + "-state-value" }

// Table entries are stored in the Confluent wire format, as Avro records of
// an entry schema that wraps the pipeline's state schema:
//
//	byte 0      0, the magic byte
//	bytes 1-4   the entry schema id, big-endian int32:
//	              > 0  the registry id of the entry schema, registered
//	                   under StateSubject(group) when the pipeline starts
//	              < 0  a local id, used without a registry (and by earlier
//	                   versions): the first four bytes of the SHA-256
//	                   fingerprint of the entry schema's Parsing Canonical
//	                   Form, with the top bit set. Registries number
//	                   schemas from 1, so a local id is never mistaken for
//	                   one.
//	then the Avro binary of record sluice.state.Entry:
//	  partition  int    source partition of the last message applied
//	  offset     long   its offset
//	  history    union {null, sluice.state.History {topic_id: string,
//	             generation: long}}: the input history of that message
//	             (null when there is none to tell: no topic ids, no reset)
//	  state      the pipeline's state schema
//	  windows    array of sluice.state.Window {start: long, end: long,
//	             state: the state schema}: the key's windows, empty in a
//	             pipeline without a window step. In one with, the array
//	             ends with a stream-time mark: {start: the partition's
//	             stream time when the entry was written, end: math.MinInt64
//	             (no window ends there), state: the entry's state}.
//
// An entry written under another registered entry schema (an earlier state
// schema) is read by resolving its writer schema to the current one, like
// any input: the pipeline refuses to start with a state schema that cannot
// read the registered ones (BACKWARD_TRANSITIVE, see registerState). An
// entry with a local id is read only under the state schema it was written
// with. Entries that start with '{' are the JSON entries of earlier
// versions, {"state": {...}, "partition": P, "offset": O}; they are still
// read (one release of migration) and rewritten as Avro at the key's next
// change.
//
// tableCodec is the goka.Codec of such entries; it is safe for concurrent use.
type tableCodec struct {
	schema avro.Schema // the state schema
	state  *codecs.Binary
	entry  avro.Schema
	local  int32 // the local id

	// id is the id written: the registry's once registered, else local.
	id atomic.Int32
	// states reads the state of entries by their entry schema id; fetch,
	// when set, asks the registry for the entry schema of an id it lacks.
	mu     sync.RWMutex
	states map[int32]*codecs.Binary
	fetch  func(ctx context.Context, id int) (string, error)

	readers sync.Pool // *avro.Reader
	bufs    sync.Pool // *[]byte
}

// entryHeaderSize is the wire-format header: magic byte and schema id.
const entryHeaderSize = 5

// fetchTimeout bounds a registry request for an entry's schema.
const fetchTimeout = 10 * time.Second

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
		local:  int32(binary.BigEndian.Uint32(fp[:4]) | 1<<31),
	}
	c.id.Store(c.local)
	c.states = map[int32]*codecs.Binary{c.local: c.state}
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

// stateOf returns the state schema inside entry schema e.
func stateOf(e avro.Schema) (avro.Schema, error) {
	rec, ok := e.(*avro.RecordSchema)
	if !ok || rec.FullName() != "sluice.state.Entry" {
		return nil, fmt.Errorf("not a sluice.state.Entry schema")
	}
	for _, f := range rec.Fields() {
		if f.Name() == "state" {
			return f.Type(), nil
		}
	}
	return nil, fmt.Errorf("sluice.state.Entry schema without a state field")
}

// registered tells the codec the registry's entry schemas: id is the one of
// its own (written from now on), others are earlier ones by id (their text)
// that entries may still hold, and fetch asks for ids it has not seen yet.
func (c *tableCodec) registered(id int, others map[int]string, fetch func(ctx context.Context, id int) (string, error)) error {
	states := map[int32]*codecs.Binary{}
	for oid, text := range others {
		b, err := c.resolver(text)
		if err != nil {
			return fmt.Errorf("entry schema id %d: %w", oid, err)
		}
		states[int32(oid)] = b
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	maps.Copy(c.states, states)
	c.states[int32(id)] = c.state
	c.fetch = fetch
	c.id.Store(int32(id))
	return nil
}

// useRegistry makes the codec ask fetch for the entry schemas of registry
// ids it meets (the codec of a table another pipeline writes).
func (c *tableCodec) useRegistry(fetch func(ctx context.Context, id int) (string, error)) {
	c.mu.Lock()
	c.fetch = fetch
	c.mu.Unlock()
}

// resolver returns the reader of the states of entries written with entry
// schema text.
func (c *tableCodec) resolver(text string) (*codecs.Binary, error) {
	writer, err := codecs.NewSchemas().Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parsing entry schema: %w", err)
	}
	ws, err := stateOf(writer)
	if err != nil {
		return nil, err
	}
	return codecs.NewResolvingBinary(c.schema, ws)
}

// stateReader returns the reader of the states of entry schema id, asking
// the registry for an id it has not seen.
func (c *tableCodec) stateReader(id int32) (*codecs.Binary, error) {
	c.mu.RLock()
	b, fetch := c.states[id], c.fetch
	c.mu.RUnlock()
	if b != nil {
		return b, nil
	}
	if id < 0 || fetch == nil {
		return nil, fmt.Errorf("written with entry schema id %d, this state schema's is %d: the state schema changed since the entry was written", id, c.id.Load())
	}
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	text, err := fetch(ctx, int(id))
	switch {
	case regclient.IsNotFound(err):
		return nil, fmt.Errorf("entry schema id %d is not in the registry: %w", id, err)
	case err != nil:
		// The registry is away: the message waits for it (unavailable: hold).
		return nil, fmt.Errorf("fetching entry schema id %d: %w (%w)", id, err, codecs.ErrUnavailable)
	}
	b, err = c.resolver(text)
	if err != nil {
		return nil, fmt.Errorf("entry schema id %d: %w", id, err)
	}
	c.mu.Lock()
	c.states[id] = b
	c.mu.Unlock()
	return b, nil
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
	buf = binary.BigEndian.AppendUint32(buf, uint32(c.id.Load()))
	buf = binary.AppendVarint(buf, int64(e.Partition))
	buf = binary.AppendVarint(buf, e.Offset)
	if e.History.IsZero() {
		buf = append(buf, 0) // history: the null branch
	} else {
		buf = append(buf, 2) // history: branch 1, History
		buf = binary.AppendVarint(buf, int64(len(e.History.TopicID)))
		buf = append(buf, e.History.TopicID...)
		buf = binary.AppendVarint(buf, e.History.Generation)
	}
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

// Decode returns the *TableEntry of data, or a badEntry saying why it
// cannot be read; it never fails (see badEntry).
func (c *tableCodec) Decode(data []byte) (any, error) {
	e, err := c.decode(data)
	if err != nil {
		return badEntry{err}, nil
	}
	return e, nil
}

func (c *tableCodec) decode(data []byte) (*TableEntry, error) {
	if len(data) > 0 && data[0] == '{' {
		return c.decodeJSON(data)
	}
	id, ok := codecs.FrameSchemaID(data)
	if !ok {
		return nil, fmt.Errorf("decoding table entry: not a JSON entry and not the wire format (%d bytes)", len(data))
	}
	state, err := c.stateReader(int32(id))
	if err != nil {
		return nil, fmt.Errorf("decoding table entry: %w", err)
	}
	r := c.readers.Get().(*avro.Reader)
	r.Reset(data[entryHeaderSize:])
	e := &TableEntry{Partition: r.ReadInt(), Offset: r.ReadLong()}
	switch branch := r.ReadLong(); {
	case r.Error != nil, branch == 0:
	case branch == 1:
		e.History = History{TopicID: r.ReadString(), Generation: r.ReadLong()}
	default:
		r.Error = fmt.Errorf("history: union branch %d out of range", branch)
	}
	if r.Error == nil {
		e.State, _ = state.Read(r).(map[string]any)
	}
	if r.Error == nil {
		e.Windows = c.readWindows(r, state)
	}
	err = codecs.ReadEnd(r)
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

// readWindows reads the windows array, their states with states: nil when
// it is empty.
func (c *tableCodec) readWindows(r *avro.Reader, states *codecs.Binary) *processors.Windows {
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
			state, _ := states.Read(r).(map[string]any)
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
func (c *tableCodec) decodeJSON(data []byte) (*TableEntry, error) {
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
