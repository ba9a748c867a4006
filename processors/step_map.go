package processors

import (
	"context"
	"fmt"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
)

// mapStep builds a new record from expressions; it replaces the current value.
// With a schema, the record is checked against it at load time and coerced
// to it at run time; schema fields not set take their defaults.
//
//   - map:
//     schema: schemas/purchase.avsc   # optional
//     fields:
//     user_id: user_id
//     amount: amount
type mapStep struct {
	fields []fieldExpr
	schema avro.Schema
}

type fieldExpr struct {
	name string
	expr *Expr
}

// NewMap builds a map step.
func NewMap(spec *Spec) (Step, error) {
	m := spec.Config.Map()
	if m == nil {
		return &mapStep{}, nil
	}
	s := &mapStep{}
	var out *Type
	if n := m.Get("schema"); n != nil {
		schema, err := spec.SchemaFile(n.String())
		if err != nil {
			n.Errorf("%v", err)
		} else {
			s.schema = schema
			out = TypeOf(schema)
			if !out.IsRecord() {
				n.Errorf("the schema of a map step must be a record")
				out = nil
			}
		}
	}
	inferred := &Type{Fields: []Field{}}
	if fn := m.Need("fields"); fn != nil {
		fm := fn.Map()
		if fm != nil {
			set := map[string]bool{}
			for _, e := range fm.Entries() {
				x := CompileExpr(e.Value, spec.Env, false)
				s.fields = append(s.fields, fieldExpr{name: e.Key, expr: x})
				set[e.Key] = true
				var t = typeAny
				if x != nil && x.Type != nil {
					t = x.Type
				}
				inferred.Fields = append(inferred.Fields, Field{Name: e.Key, Go: t})
				if out != nil {
					checkField(e.KeyNode, out, e.Key, x)
				}
			}
			if out != nil {
				requireFields(fn, out, set)
			}
		}
	}
	m.Done()
	if out == nil {
		out = inferred
	}
	spec.Env.Value = out
	return s, nil
}

func (s *mapStep) Process(_ context.Context, m *Message) (Result, error) {
	rec := make(map[string]any, len(s.fields))
	for _, f := range s.fields {
		v, err := f.expr.Eval(m)
		if err != nil {
			return Drop, fmt.Errorf("field %s: %w", f.name, err)
		}
		rec[f.name] = v
	}
	if s.schema != nil {
		c, err := codecs.Coerce(s.schema, rec)
		if err != nil {
			return Drop, err
		}
		rec = c.(map[string]any)
	}
	m.SetValue(rec)
	return Continue, nil
}
