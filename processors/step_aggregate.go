package processors

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
)

// aggregate updates the key's state in the pipeline's group table. `init`
// gives a new key's first state (fields it omits take the state schema's
// default, else a zero value); `set` computes fields of the next state from
// the event, `state` (the previous state) and `key`. The new state becomes
// the current value, so a following emit step publishes it.
//
//   - aggregate:
//     init: {user_id: key}
//     set:
//     events: state.events + 1
type aggregate struct {
	schema avro.Schema
	fields []Field
	init   []fieldExpr
	set    []fieldExpr
	// setSchemas are the schemas of the set fields, in set's order (nil for
	// a name the state does not have, which the loader has reported); kept
	// are the state fields set leaves as they were.
	setSchemas []avro.Schema
	kept       []string
}

// NewAggregate builds an aggregate step.
func NewAggregate(spec *Spec) (Step, error) {
	a := &aggregate{}
	m := spec.Config.Map()
	if m == nil {
		return a, nil
	}
	st := spec.Env.State
	if !st.IsRecord() {
		spec.Errorf("aggregate needs the pipeline's state schema (state: {schema: FILE})")
		m.Entries()
		return a, nil
	}
	a.schema, a.fields = st.Schema, st.Fields
	readFields := func(key string) []fieldExpr {
		var out []fieldExpr
		n := m.Get(key)
		if n == nil {
			return nil
		}
		fm := n.Map()
		if fm == nil {
			return nil
		}
		for _, e := range fm.Entries() {
			x := CompileExpr(e.Value, spec.Env, false)
			checkField(e.KeyNode, st, e.Key, x)
			out = append(out, fieldExpr{name: e.Key, expr: x})
		}
		return out
	}
	a.init = readFields("init")
	a.set = readFields("set")
	set := map[string]bool{}
	for _, f := range a.set {
		sf, _ := st.Field(f.name)
		a.setSchemas = append(a.setSchemas, sf.Schema)
		set[f.name] = true
	}
	for _, f := range a.fields {
		if !set[f.Name] {
			a.kept = append(a.kept, f.Name)
		}
	}
	if !m.Has("set") {
		m.Node().Errorf("missing required field %q", "set")
	}
	m.Done()
	spec.Env.Value = st
	return a, nil
}

func (a *aggregate) Process(_ context.Context, m *Message) (Result, error) {
	if m.replayed && m.state != nil {
		// The table already holds this message's effect: publish the stored
		// state again instead of applying the message twice.
		m.SetValue(m.state)
		return Continue, nil
	}
	prev := m.state
	if prev == nil {
		first, err := a.initial(m)
		if err != nil {
			return Drop, err
		}
		// The first state is coerced whole: defaults and zero values are
		// not all canonical.
		c, err := codecs.Coerce(a.schema, first)
		if err != nil {
			return Drop, fmt.Errorf("new state: %w", err)
		}
		prev = c.(map[string]any)
		m.state = prev
		m.env = nil
	}
	// The next state is a new map (the previous one is shared, see
	// Message): the fields set leaves as they were, and the set fields
	// coerced one by one.
	next := make(map[string]any, len(a.fields))
	for _, k := range a.kept {
		if v, ok := prev[k]; ok {
			next[k] = v
		}
	}
	for i, f := range a.set {
		v, err := f.expr.Eval(m)
		if err != nil {
			return Drop, fmt.Errorf("field %s: %w", f.name, err)
		}
		s := a.setSchemas[i]
		if s == nil {
			continue // not a state field: coercing the state would drop it
		}
		c, err := codecs.Coerce(s, v)
		if err != nil {
			next[f.name] = v
			return Drop, a.coerceError(next)
		}
		next[f.name] = c
	}
	m.SetState(next)
	m.SetValue(next)
	return Continue, nil
}

// coerceError is the error of a state that does not fit the state schema,
// with the path of the field that does not, as Coerce of the whole state
// gives it.
func (a *aggregate) coerceError(next map[string]any) error {
	_, err := codecs.Coerce(a.schema, next)
	if err == nil {
		err = errors.New("does not fit the state schema")
	}
	return fmt.Errorf("new state: %w", err)
}

func (a *aggregate) initial(m *Message) (map[string]any, error) {
	st := make(map[string]any, len(a.fields))
	rs, _ := deref(a.schema).(*avro.RecordSchema)
	for i, f := range a.fields {
		if rs != nil && rs.Fields()[i].HasDefault() {
			st[f.Name] = rs.Fields()[i].Default()
			continue
		}
		st[f.Name] = zeroFor(f.Go)
	}
	for _, f := range a.init {
		v, err := f.expr.Eval(m)
		if err != nil {
			return nil, fmt.Errorf("init field %s: %w", f.name, err)
		}
		st[f.name] = v
	}
	return st, nil
}

// zeroFor is the starting value of a state field that has no default.
func zeroFor(t reflect.Type) any {
	switch {
	case t == nil || t.Kind() == reflect.Interface:
		return nil
	case t == typeTime:
		return time.UnixMilli(0).UTC()
	case t.Kind() == reflect.Struct:
		return map[string]any{}
	case t.Kind() == reflect.Slice && t != typeBytes:
		return []any{}
	case t.Kind() == reflect.Map:
		return map[string]any{}
	}
	return reflect.Zero(t).Interface()
}
