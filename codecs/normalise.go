package codecs

import (
	"math/big"
	"reflect"

	"github.com/hamba/avro/v2"
)

// hamba/avro v2.31.0 decodes into map[string]any almost in the canonical form, with these
// differences, which this file removes:
//
//   - a union decodes to its plain branch value only when the branch's type name is
//     registered with the API's type resolver, else to map[string]any{"name": value} (and,
//     without PartialUnionTypeResolution, one unregistered branch wraps them all). prepare
//     registers every branch name of a schema (records, enums, arrays, maps, fixed...), so
//     unions always decode plain and nothing needs unwrapping per message.
//   - an int decodes to Go int (canonical: int32): a normaliser converts it.
//   - a fixed decodes to a [N]byte array (canonical: []byte): a normaliser converts it.
//
// The normaliser is compiled once per resolved schema and is nil when the schema holds no
// int and no plain fixed, as for UserEvent: then decoding adds no work at all.

// normFn converts a decoded value in place where possible and returns it.
type normFn func(any) any

// prepare registers the union branch names of s with api and compiles its normaliser.
func prepare(api avro.API, s avro.Schema) normFn {
	p := &preparer{api: api, seen: map[string]*normBox{}}
	return p.norm(s)
}

type normBox struct {
	fn   normFn
	done bool
}

type preparer struct {
	api  avro.API
	seen map[string]*normBox // named schemas in progress or done, for recursive types
}

func (p *preparer) norm(s avro.Schema) normFn {
	switch sch := s.(type) {
	case *avro.RefSchema:
		return p.norm(sch.Schema())
	case *avro.PrimitiveSchema:
		if sch.Type() == avro.Int && logicalType(sch) == "" {
			return normInt
		}
		return nil
	case *avro.FixedSchema:
		if sch.Logical() == nil || (sch.Logical().Type() != avro.Decimal && sch.Logical().Type() != avro.Duration) {
			return normFixed
		}
		return nil
	case *avro.RecordSchema:
		if box, ok := p.seen[sch.FullName()]; ok {
			if box.done {
				return box.fn
			}
			return func(v any) any {
				if box.fn == nil {
					return v
				}
				return box.fn(v)
			}
		}
		box := &normBox{}
		p.seen[sch.FullName()] = box
		type fieldNorm struct {
			name string
			fn   normFn
		}
		var fields []fieldNorm
		for _, f := range sch.Fields() {
			if fn := p.norm(f.Type()); fn != nil {
				fields = append(fields, fieldNorm{f.Name(), fn})
			}
		}
		box.done = true
		if len(fields) == 0 {
			return nil
		}
		box.fn = func(v any) any {
			m, ok := v.(map[string]any)
			if !ok {
				return v
			}
			for _, f := range fields {
				if x, ok := m[f.name]; ok {
					m[f.name] = f.fn(x)
				}
			}
			return m
		}
		return box.fn
	case *avro.ArraySchema:
		fn := p.norm(sch.Items())
		if fn == nil {
			return nil
		}
		return func(v any) any {
			if a, ok := v.([]any); ok {
				for i, x := range a {
					a[i] = fn(x)
				}
			}
			return v
		}
	case *avro.MapSchema:
		fn := p.norm(sch.Values())
		if fn == nil {
			return nil
		}
		return func(v any) any {
			if m, ok := v.(map[string]any); ok {
				for k, x := range m {
					m[k] = fn(x)
				}
			}
			return v
		}
	case *avro.UnionSchema:
		var need bool
		for _, t := range sch.Types() {
			p.register(t)
			if p.norm(t) != nil {
				need = true
			}
		}
		if !need {
			return nil
		}
		// The decoded value no longer says which branch it came from: normalise by Go type,
		// which is exact because no canonical value holds a Go int or a byte array.
		return normAny
	}
	return nil
}

// register tells the API's type resolver which Go type a union branch decodes into.
func (p *preparer) register(t avro.Schema) {
	if r, ok := t.(*avro.RefSchema); ok {
		t = r.Schema()
	}
	name := typeName(t)
	switch sch := t.(type) {
	case *avro.PrimitiveSchema:
		if sch.Type() == avro.Int && logicalType(sch) == "" {
			p.api.Register(name, int32(0))
		}
		// other primitives and their logical types are pre-registered by hamba
	case *avro.RecordSchema:
		p.api.Register(name, map[string]any{})
	case *avro.EnumSchema:
		p.api.Register(name, "")
	case *avro.ArraySchema:
		p.api.Register(name+":"+typeName(sch.Items()), []any{})
	case *avro.MapSchema:
		p.api.Register(name+":"+typeName(sch.Values()), map[string]any{})
	case *avro.FixedSchema:
		switch {
		case sch.Logical() != nil && sch.Logical().Type() == avro.Decimal:
			p.api.Register(name, new(big.Rat))
		case sch.Logical() != nil && sch.Logical().Type() == avro.Duration:
			p.api.Register(name, avro.LogicalDuration{})
		default:
			p.api.Register(name, reflect.New(reflect.ArrayOf(sch.Size(), reflect.TypeFor[byte]())).Elem().Interface())
		}
	}
}

func normInt(v any) any {
	if i, ok := v.(int); ok {
		return int32(i)
	}
	return v
}

func normFixed(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Array || rv.Type().Elem().Kind() != reflect.Uint8 {
		return v
	}
	b := make([]byte, rv.Len())
	reflect.Copy(reflect.ValueOf(b), rv)
	return b
}

// normAny normalises a value of unknown branch by its Go type.
func normAny(v any) any {
	switch x := v.(type) {
	case int:
		return int32(x)
	case map[string]any:
		for k, e := range x {
			x[k] = normAny(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normAny(e)
		}
		return x
	case nil, string, int32, int64, float32, float64, bool, []byte:
		return v
	}
	return normFixed(v)
}
