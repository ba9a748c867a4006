package processors

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// lookup reads a key's state from another pipeline's group table and names
// it for later expressions. With `required: true` a missing key fails the
// message (dead letter, stage "lookup"); otherwise the variable is null.
//
//   - lookup:
//     table: user-stats    # the pipeline whose table is read
//     key: user_id         # expression; the message key by default
//     as: stats
type lookup struct {
	table    string
	key      *Expr
	as       string
	required bool
}

// ErrMissingKey is returned by a required lookup whose key has no value in
// the table.
var ErrMissingKey = errors.New("not found")

// NewLookup builds a lookup step.
func NewLookup(spec *Spec) (Step, error) {
	l := &lookup{}
	m := spec.Config.Map()
	if m == nil {
		return l, nil
	}
	var tableType *Type
	if n := m.Need("table"); n != nil {
		l.table = n.String()
		t, ok := spec.Env.Tables[l.table]
		if !ok && l.table != "" {
			known := make([]string, 0, len(spec.Env.Tables))
			for name := range spec.Env.Tables {
				known = append(known, name)
			}
			sort.Strings(known)
			n.Errorf("no stateful pipeline named %q to look up (stateful pipelines: %s)", l.table, strings.Join(known, ", "))
		}
		tableType = t
	}
	if n := m.Get("key"); n != nil {
		l.key = CompileExpr(n, spec.Env, false)
	}
	if n := m.Need("as"); n != nil {
		l.as = n.String()
		if spec.Env.Value.IsRecord() {
			if _, clash := spec.Env.Value.Field(l.as); clash {
				n.Errorf("%q is already a field of the record; choose another name", l.as)
			}
		}
		switch l.as {
		case VarKey, VarValue, VarState, VarMeta:
			n.Errorf("%q is a reserved name; choose another", l.as)
		}
	}
	l.required = m.BoolOr("required", false)
	m.Done()
	if l.as != "" {
		spec.Env.Vars[l.as] = tableType
	}
	return l, nil
}

// Table is the pipeline whose table the step reads (the loader draws it in
// the graph and gives the runtime a goka lookup edge for it).
func (l *lookup) Table() string { return l.table }

func (l *lookup) Process(_ context.Context, m *Message) (Result, error) {
	key := m.key
	if l.key != nil {
		k, err := l.key.EvalString(m)
		if err != nil {
			return Drop, err
		}
		key = k
	}
	if m.lookup == nil {
		return Drop, fmt.Errorf("lookup %s: no table access in this context", l.table)
	}
	v, err := m.Lookup(l.table, key)
	if err != nil {
		return Drop, fmt.Errorf("lookup %s[%s]: %w", l.table, key, err)
	}
	if v == nil && l.required {
		return Drop, fmt.Errorf("lookup %s[%s]: %w", l.table, key, ErrMissingKey)
	}
	if v == nil {
		m.SetVar(l.as, nil)
	} else {
		m.SetVar(l.as, v)
	}
	return Continue, nil
}
