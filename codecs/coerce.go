package codecs

import (
	"fmt"
	"math/big"
	"reflect"
	"strconv"
	"time"

	"github.com/hamba/avro/v2"
)

// Coerce converts a loosely typed value to the canonical value for schema (see the package
// documentation): int, float64, json.Number for numbers; a symbol string for an enum; Unix
// milliseconds (timestamp-millis), microseconds (timestamp-micros), days (date) or an
// RFC 3339 string for times; decimal strings and numbers for decimals; nested maps and
// slices of any element type for records, maps and arrays. A union takes the branch the Go
// value fits (nil -> null, exact canonical type first, then the first branch it converts
// to); hamba's wrapped form map[string]any{"string": "x"} is accepted too.
//
// A record's missing field takes the schema default (an error without one); keys the
// schema does not name are dropped. Errors name the field path: "field address.zip: ...".
func Coerce(schema avro.Schema, v any) (any, error) {
	out, err := coerce(schema, v)
	if err != nil {
		return nil, fmt.Errorf("coercing to %s: %w", schemaName(schema), err)
	}
	return out, nil
}

func coerce(s avro.Schema, v any) (any, error) {
	switch sch := s.(type) {
	case *avro.RefSchema:
		return coerce(sch.Schema(), v)
	case *avro.PrimitiveSchema:
		return coercePrimitive(sch, v)
	case *avro.RecordSchema:
		return coerceRecord(sch, v)
	case *avro.EnumSchema:
		str, err := toString(v)
		if err != nil {
			return nil, err
		}
		if !hasSymbol(sch, str) {
			return nil, fmt.Errorf("%q is not a symbol of enum %s %v", str, sch.FullName(), sch.Symbols())
		}
		return str, nil
	case *avro.ArraySchema:
		var out []any
		err := eachItem(v, func(i int, item any) error {
			c, err := coerce(sch.Items(), item)
			if err != nil {
				return at("["+strconv.Itoa(i)+"]", err)
			}
			out = append(out, c)
			return nil
		})
		if out == nil && err == nil {
			out = []any{}
		}
		return out, err
	case *avro.MapSchema:
		out := map[string]any{}
		err := eachEntry(v, func(k string, val any) error {
			c, err := coerce(sch.Values(), val)
			if err != nil {
				return at("["+k+"]", err)
			}
			out[k] = c
			return nil
		})
		return out, err
	case *avro.UnionSchema:
		_, branch, val, err := pickBranch(sch, v)
		if err != nil {
			return nil, err
		}
		return coerce(branch, val)
	case *avro.FixedSchema:
		return coerceFixed(sch, v)
	case *avro.NullSchema:
		if v != nil {
			return nil, typeError("null", v)
		}
		return nil, nil
	}
	return nil, fmt.Errorf("unsupported schema type %s", s.Type())
}

func coercePrimitive(s *avro.PrimitiveSchema, v any) (any, error) {
	lt := logicalType(s)
	if canonicalAlready(s.Type(), lt, v) {
		// Returning v itself spares boxing a copy of it.
		return v, nil
	}
	switch s.Type() {
	case avro.Null:
		if v != nil {
			return nil, typeError("null", v)
		}
		return nil, nil
	case avro.Boolean:
		return toBool(v)
	case avro.Int:
		switch lt {
		case avro.Date:
			return toTime(v, unitDays)
		case avro.TimeMillis:
			return toTimeMillis(v)
		}
		return toInt32(v)
	case avro.Long:
		switch lt {
		case avro.TimestampMillis, avro.LocalTimestampMillis:
			return toTime(v, unitMillis)
		case avro.TimestampMicros, avro.LocalTimestampMicros:
			return toTime(v, unitMicros)
		case avro.TimeMicros:
			d, err := toDuration(v, unitMicros)
			return d.Truncate(time.Microsecond), err
		}
		return toInt64(v)
	case avro.Float:
		return toFloat32(v)
	case avro.Double:
		return toFloat64(v)
	case avro.String:
		str, err := toString(v)
		if err == nil && lt == avro.UUID && !validUUID(str) {
			return nil, fmt.Errorf("%q is not a UUID", str)
		}
		return str, err
	case avro.Bytes:
		if lt == avro.Decimal {
			return coerceDecimal(s.Logical().(*avro.DecimalLogicalSchema), v)
		}
		return toBytes(v)
	}
	return nil, fmt.Errorf("unsupported schema type %s", s.Type())
}

// canonicalAlready reports whether v is already the canonical value of a
// primitive type t with logical type lt, so that coercing it would return an
// equal value.
func canonicalAlready(t avro.Type, lt avro.LogicalType, v any) bool {
	switch x := v.(type) {
	case string:
		return t == avro.String && lt == ""
	case int64:
		return t == avro.Long && lt == ""
	case float64:
		return t == avro.Double && lt == ""
	case int32:
		return t == avro.Int && lt == ""
	case float32:
		return t == avro.Float && lt == ""
	case bool:
		return t == avro.Boolean
	case time.Time:
		switch {
		case t == avro.Long && (lt == avro.TimestampMillis || lt == avro.LocalTimestampMillis):
			return truncTime(x, unitMillis) == x
		case t == avro.Long && (lt == avro.TimestampMicros || lt == avro.LocalTimestampMicros):
			return truncTime(x, unitMicros) == x
		}
	}
	return false
}

func coerceDecimal(d *avro.DecimalLogicalSchema, v any) (*big.Rat, error) {
	r, err := toRat(v)
	if err != nil {
		return nil, err
	}
	if _, err := unscaled(r, d.Scale()); err != nil {
		return nil, err
	}
	return r, nil
}

func coerceFixed(s *avro.FixedSchema, v any) (any, error) {
	if l := s.Logical(); l != nil {
		switch l.Type() {
		case avro.Decimal:
			return coerceDecimal(l.(*avro.DecimalLogicalSchema), v)
		case avro.Duration:
			if d, ok := v.(avro.LogicalDuration); ok {
				return d, nil
			}
			return nil, typeError("avro.LogicalDuration", v)
		}
	}
	b, err := toBytes(v)
	if err != nil {
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Array && rv.Type().Elem().Kind() == reflect.Uint8 {
			b = make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			err = nil
		}
	}
	if err != nil {
		return nil, err
	}
	if len(b) != s.Size() {
		return nil, fmt.Errorf("%d bytes where fixed %s needs %d", len(b), s.FullName(), s.Size())
	}
	return b, nil
}

func coerceRecord(s *avro.RecordSchema, v any) (any, error) {
	m, ok := asMap(v)
	if !ok {
		return nil, typeError("record "+s.FullName(), v)
	}
	out := make(map[string]any, len(s.Fields()))
	for _, f := range s.Fields() {
		fv, present := m[f.Name()]
		if !present {
			if !f.HasDefault() {
				return nil, at(f.Name(), fmt.Errorf("missing (no default)"))
			}
			fv = fieldDefault(f)
		}
		c, err := coerce(f.Type(), fv)
		if err != nil {
			return nil, at(f.Name(), err)
		}
		out[f.Name()] = c
	}
	return out, nil
}

// fieldDefault returns a field's default as a value Coerce accepts. hamba gives a union's
// default as the first branch's value, and nil for a null default.
func fieldDefault(f *avro.Field) any {
	d := f.Default()
	if u, ok := f.Type().(*avro.UnionSchema); ok && d != nil {
		return map[string]any{typeName(u.Types()[0]): d}
	}
	return d
}

// pickBranch selects the union branch for v: null for nil, hamba's wrapped form, a branch
// whose canonical Go type v already has, then the first branch v converts to.
func pickBranch(u *avro.UnionSchema, v any) (int, avro.Schema, any, error) {
	types := u.Types()
	if v == nil {
		for i, t := range types {
			if t.Type() == avro.Null {
				return i, t, nil, nil
			}
		}
		return 0, nil, nil, fmt.Errorf("null where union %s expected", unionNames(u))
	}
	if w, ok := v.(map[string]any); ok && len(w) == 1 {
		for k, inner := range w {
			for i, t := range types {
				if typeName(t) == k {
					return i, t, inner, nil
				}
			}
		}
	}
	for i, t := range types {
		if exactFit(t, v) {
			return i, t, v, nil
		}
	}
	var (
		tried   int
		lastErr error
	)
	for i, t := range types {
		if t.Type() == avro.Null {
			continue
		}
		_, err := coerce(t, v)
		if err == nil {
			return i, t, v, nil
		}
		tried, lastErr = tried+1, err
	}
	if tried == 1 { // an optional value: say why it does not fit
		return 0, nil, nil, lastErr
	}
	return 0, nil, nil, fmt.Errorf("%T %s fits no branch of union %s", v, short(v), unionNames(u))
}

// exactFit reports whether v already has the canonical Go type of schema t.
func exactFit(t avro.Schema, v any) bool {
	if r, ok := t.(*avro.RefSchema); ok {
		t = r.Schema()
	}
	lt := logicalType(t)
	switch x := v.(type) {
	case string:
		switch t.Type() {
		case avro.String:
			return lt != avro.UUID || validUUID(x)
		case avro.Enum:
			return hasSymbol(t.(*avro.EnumSchema), x)
		}
	case int32:
		return t.Type() == avro.Int && lt == ""
	case int64:
		return t.Type() == avro.Long && lt == ""
	case float64:
		return t.Type() == avro.Double
	case float32:
		return t.Type() == avro.Float
	case bool:
		return t.Type() == avro.Boolean
	case []byte:
		return t.Type() == avro.Bytes && lt == "" ||
			t.Type() == avro.Fixed && lt == "" && len(x) == t.(*avro.FixedSchema).Size()
	case time.Time:
		return lt == avro.TimestampMillis || lt == avro.TimestampMicros || lt == avro.Date ||
			lt == avro.LocalTimestampMillis || lt == avro.LocalTimestampMicros
	case time.Duration:
		return lt == avro.TimeMillis || lt == avro.TimeMicros
	case *big.Rat:
		return lt == avro.Decimal
	case []any:
		return t.Type() == avro.Array
	case map[string]any:
		if t.Type() == avro.Record {
			for _, f := range t.(*avro.RecordSchema).Fields() {
				if _, ok := x[f.Name()]; !ok && !f.HasDefault() {
					return false
				}
			}
			return true
		}
	}
	return false
}

func hasSymbol(e *avro.EnumSchema, s string) bool {
	for _, sym := range e.Symbols() {
		if sym == s {
			return true
		}
	}
	return false
}

func logicalType(s avro.Schema) avro.LogicalType {
	if l, ok := s.(avro.LogicalTypeSchema); ok && l.Logical() != nil {
		return l.Logical().Type()
	}
	return ""
}

// typeName is the name hamba uses for a union branch: the full name of a named type, else
// the type, with ".logicalType" appended when there is one.
func typeName(s avro.Schema) string {
	if r, ok := s.(*avro.RefSchema); ok {
		s = r.Schema()
	}
	if n, ok := s.(avro.NamedSchema); ok {
		return n.FullName()
	}
	name := string(s.Type())
	if lt := logicalType(s); lt != "" {
		name += "." + string(lt)
	}
	return name
}

func unionNames(u *avro.UnionSchema) string {
	s := "["
	for i, t := range u.Types() {
		if i > 0 {
			s += ", "
		}
		s += typeName(t)
	}
	return s + "]"
}

func schemaName(s avro.Schema) string {
	if r, ok := s.(*avro.RefSchema); ok {
		s = r.Schema()
	}
	if n, ok := s.(avro.NamedSchema); ok {
		return n.FullName()
	}
	return string(s.Type())
}

// asMap accepts map[string]any and, through reflection, any map with string keys.
func asMap(v any) (map[string]any, bool) {
	if m, ok := v.(map[string]any); ok {
		return m, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, false
	}
	m := make(map[string]any, rv.Len())
	it := rv.MapRange()
	for it.Next() {
		m[it.Key().String()] = it.Value().Interface()
	}
	return m, true
}

// eachItem iterates []any or, through reflection, any slice or array (not []byte).
func eachItem(v any, fn func(int, any) error) error {
	if s, ok := v.([]any); ok {
		for i, item := range s {
			if err := fn(i, item); err != nil {
				return err
			}
		}
		return nil
	}
	rv := reflect.ValueOf(v)
	if k := rv.Kind(); k != reflect.Slice && k != reflect.Array {
		return typeError("array", v)
	}
	if _, isBytes := v.([]byte); isBytes {
		return typeError("array", v)
	}
	for i := 0; i < rv.Len(); i++ {
		if err := fn(i, rv.Index(i).Interface()); err != nil {
			return err
		}
	}
	return nil
}

// eachEntry iterates map[string]any or, through reflection, any map with string keys.
func eachEntry(v any, fn func(string, any) error) error {
	if m, ok := v.(map[string]any); ok {
		for k, val := range m {
			if err := fn(k, val); err != nil {
				return err
			}
		}
		return nil
	}
	m, ok := asMap(v)
	if !ok {
		return typeError("map", v)
	}
	return eachEntry(m, fn)
}
