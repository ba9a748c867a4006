package processors

import "time"

// Meta is where a message came from; expressions see it as `meta`.
type Meta struct {
	Topic     string            `expr:"topic"`
	Partition int32             `expr:"partition"`
	Offset    int64             `expr:"offset"`
	Timestamp time.Time         `expr:"timestamp"`
	Headers   map[string]string `expr:"headers"`
}

// Emit is one record a message produces, written when every step has succeeded.
type Emit struct {
	Output string
	Key    string
	Value  any
}

// LookupFunc reads a key's state from another pipeline's table. It returns
// nil when the key has no value.
type LookupFunc func(table, key string) (map[string]any, error)

// Message is one consumed record moving through the steps of a pipeline.
// Records are map[string]any in the canonical form described in package codecs.
//
// Value and State are shared, not copies: the runtime decodes a message once
// for all its attempts and keeps each partition's table entries decoded in a
// cache. A step must never change them in place; it builds a new value or
// state and sets it with SetValue or SetState.
type Message struct {
	Key   string
	Value any
	// State is the key's state in the group table (nil for a new key or a
	// stateless pipeline). Steps that change it call SetState with a new map.
	State        map[string]any
	StateChanged bool
	// Replayed is set by the runtime when the table already holds the effect
	// of this message (a redelivery after a crash): stateful steps must not
	// apply it a second time.
	Replayed bool
	// Vars holds values named by lookup steps.
	Vars map[string]any
	Meta Meta

	Lookup LookupFunc
	Emits  []Emit

	env     map[string]any
	scratch *Scratch
	// windows are the key's windows, emitWindows those to publish (see
	// step_window.go).
	windows     *Windows
	emitWindows []Window
	// emits holds the first Emit, so that a message emitting one record (most
	// do) needs no slice of its own. Emits points into it: a Message in use
	// is not copied.
	emits [1]Emit
}

// NewMessage returns a message for key and value.
func NewMessage(key string, value any, meta Meta) *Message {
	return &Message{Key: key, Value: value, Meta: meta}
}

// SetValue replaces the current value.
func (m *Message) SetValue(v any) {
	m.Value = v
	m.env = nil
}

// SetState replaces the key's state and marks it changed.
func (m *Message) SetState(s map[string]any) {
	m.State = s
	m.StateChanged = true
	m.env = nil
}

// SetVar names a value for later expressions.
func (m *Message) SetVar(name string, v any) {
	if m.Vars == nil {
		m.Vars = map[string]any{}
	}
	m.Vars[name] = v
	m.env = nil
}

// Emit queues a record for an output.
func (m *Message) Emit(output, key string, value any) {
	if m.Emits == nil {
		m.Emits = m.emits[:0]
	}
	m.Emits = append(m.Emits, Emit{Output: output, Key: key, Value: value})
}

// Env is what expressions see: the record's fields at top level, and key,
// value, state, meta and the lookup variables. The map is valid until the
// message's value, state or variables change; with a Scratch (Reuse) it is
// the scratch's map, rebuilt in place, so never keep it.
func (m *Message) Env() map[string]any {
	if m.env != nil {
		return m.env
	}
	rec, _ := m.Value.(map[string]any)
	var env map[string]any
	if m.scratch != nil && m.scratch.env != nil {
		env = m.scratch.env
		clear(env)
	} else {
		env = make(map[string]any, len(rec)+len(m.Vars)+4)
		if m.scratch != nil {
			m.scratch.env = env
		}
	}
	for k, v := range rec {
		env[k] = v
	}
	for k, v := range m.Vars {
		env[k] = v
	}
	env[VarKey] = m.Key
	env[VarValue] = m.Value
	env[VarState] = m.State
	env[VarMeta] = &m.Meta // a pointer: expressions read its fields alike, and it is not copied
	env[varFetch] = fetch
	m.env = env
	return env
}

// Names every expression can use besides the record's fields.
const (
	VarKey   = "key"
	VarValue = "value"
	VarState = "state"
	VarMeta  = "meta"
)

// Result says what happens to a message after a step.
type Result int

const (
	// Continue passes the message to the next step.
	Continue Result = iota
	// Drop ends the message's way through the pipeline: it counts as filtered
	// unless it has emitted something.
	Drop
)
