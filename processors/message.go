package processors

import (
	"fmt"
	"maps"
	"time"
)

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
// Its parts are read with methods and changed only with SetValue, SetState,
// SetVar and Emit, so that the environment expressions see (Env) always
// matches them.
//
// Value and State are shared, not copies: the runtime decodes a message once
// for all its attempts and keeps each partition's table entries decoded in a
// cache. A step must never change them in place; it builds a new value or
// state and sets it with SetValue or SetState.
type Message struct {
	key   string
	value any
	// state is the key's state in the group table (nil for a new key or a
	// stateless pipeline).
	state        map[string]any
	stateChanged bool
	replayed     bool
	vars         map[string]any
	meta         Meta

	lookup LookupFunc
	emits  []Emit

	env     map[string]any
	scratch *Scratch
	// first holds the first Emit, so that a message emitting one record
	// (most do) needs no slice of its own. emits points into it: a Message
	// in use is not copied.
	first [1]Emit
	// windows are the key's windows, emitWindows those to publish (see
	// step_window.go).
	windows     *Windows
	emitWindows []Window
}

// NewMessage returns a message for key and value, as the runtime makes one
// for each consumed record; tests of a step make theirs with it too.
func NewMessage(key string, value any, meta Meta) *Message {
	return &Message{key: key, value: value, meta: meta}
}

// Key is the record's key.
func (m *Message) Key() string { return m.key }

// Value is the current value: the decoded record, or what an earlier step set.
func (m *Message) Value() any { return m.value }

// State is the key's state in the group table: nil for a new key or a
// stateless pipeline.
func (m *Message) State() map[string]any { return m.state }

// StateChanged reports whether a step set a new state.
func (m *Message) StateChanged() bool { return m.stateChanged }

// Replayed reports whether the table already holds the effect of this
// message (a redelivery after a crash): stateful steps must not apply it a
// second time.
func (m *Message) Replayed() bool { return m.replayed }

// Meta is where the message came from. Its Headers are shared: read them only.
func (m *Message) Meta() Meta { return m.meta }

// Var returns the value named name by a lookup step or SetVar.
func (m *Message) Var(name string) (any, bool) {
	v, ok := m.vars[name]
	return v, ok
}

// Vars returns a copy of the named values.
func (m *Message) Vars() map[string]any { return maps.Clone(m.vars) }

// Emits are the records queued by Emit, in order. The slice is the
// message's own: read it only.
func (m *Message) Emits() []Emit { return m.emits }

// Lookup reads a key's state from another pipeline's table (the lookup
// step's table). It returns nil when the key has no value, and an error when
// the runtime gave the message no tables.
func (m *Message) Lookup(table, key string) (map[string]any, error) {
	if m.lookup == nil {
		return nil, fmt.Errorf("no table to look %q up in: the pipeline reads no other pipeline's table", table)
	}
	return m.lookup(table, key)
}

// SetLookup sets how Lookup reads other pipelines' tables; the runtime sets
// it, and so may a test of a step that looks keys up.
func (m *Message) SetLookup(f LookupFunc) { m.lookup = f }

// LoadState sets the key's state as the table holds it, before the steps
// run; unlike SetState it does not mark the state changed. replayed says the
// table already holds this message's effect (see Replayed).
func (m *Message) LoadState(s map[string]any, replayed bool) {
	m.state = s
	m.replayed = replayed
	m.env = nil
}

// SetValue replaces the current value.
func (m *Message) SetValue(v any) {
	m.value = v
	m.env = nil
}

// SetState replaces the key's state and marks it changed.
func (m *Message) SetState(s map[string]any) {
	m.state = s
	m.stateChanged = true
	m.env = nil
}

// SetVar names a value for later expressions.
func (m *Message) SetVar(name string, v any) {
	if m.vars == nil {
		m.vars = map[string]any{}
	}
	m.vars[name] = v
	m.env = nil
}

// Emit queues a record for an output.
func (m *Message) Emit(output, key string, value any) {
	if m.emits == nil {
		m.emits = m.first[:0]
	}
	m.emits = append(m.emits, Emit{Output: output, Key: key, Value: value})
}

// Env is what expressions see: the record's fields at top level, and key,
// value, state, meta and the lookup variables. The map is valid until the
// message's value, state or variables change; with a Scratch (Reuse) it is
// the scratch's map, rebuilt in place, so never keep it.
func (m *Message) Env() map[string]any {
	if m.env != nil {
		return m.env
	}
	rec, _ := m.value.(map[string]any)
	var env map[string]any
	if m.scratch != nil && m.scratch.env != nil {
		env = m.scratch.env
		clear(env)
	} else {
		env = make(map[string]any, len(rec)+len(m.vars)+4)
		if m.scratch != nil {
			m.scratch.env = env
		}
	}
	for k, v := range rec {
		env[k] = v
	}
	for k, v := range m.vars {
		env[k] = v
	}
	env[VarKey] = m.key
	env[VarValue] = m.value
	env[VarState] = m.state
	env[VarMeta] = &m.meta // a pointer: expressions read its fields alike, and it is not copied
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
