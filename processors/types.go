package processors

import (
	"math/big"
	"reflect"
	"strconv"
	"time"

	"github.com/hamba/avro/v2"
)

// Type describes a value flowing through a pipeline, for type-checking
// expressions at load time. A nil *Type, or one without Fields, is a value
// of unknown shape: expressions over it are checked at run time only.
type Type struct {
	// Schema is the Avro schema of the value, when it has one.
	Schema avro.Schema
	// Fields are the record's fields in order; nil when the value is not a known record.
	Fields []Field
	// Open is true when the record may hold fields beyond Fields (JSON input).
	Open bool
	// Name names the record in messages when it has no Avro schema (a
	// Protobuf message's full name, a JSON Schema's title).
	Name string
}

// Field is one field of a record type.
type Field struct {
	Name string
	Go   reflect.Type // the canonical Go type; nil means any
	// Schema is the field's Avro schema, when known.
	Schema avro.Schema
}

// Field returns the named field.
func (t *Type) Field(name string) (Field, bool) {
	if t == nil {
		return Field{}, false
	}
	for _, f := range t.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// IsRecord reports whether the type is a record with known fields.
func (t *Type) IsRecord() bool { return t != nil && t.Fields != nil }

// TypeOf derives a Type from an Avro schema.
func TypeOf(s avro.Schema) *Type {
	t := &Type{Schema: s}
	if rs, ok := deref(s).(*avro.RecordSchema); ok {
		t.Fields = make([]Field, 0, len(rs.Fields()))
		for _, f := range rs.Fields() {
			t.Fields = append(t.Fields, Field{Name: f.Name(), Go: goType(f.Type()), Schema: f.Type()})
		}
	}
	return t
}

func deref(s avro.Schema) avro.Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}

var (
	typeAny   = reflect.TypeOf((*any)(nil)).Elem()
	typeTime  = reflect.TypeOf(time.Time{})
	typeRat   = reflect.TypeOf((*big.Rat)(nil))
	typeBytes = reflect.TypeOf([]byte(nil))
)

// goType is the canonical Go type of a value of schema s, as package codecs
// decodes it. Records become struct types whose fields carry `expr` tags, so
// that expressions such as state.events are checked field by field.
func goType(s avro.Schema) reflect.Type {
	s = deref(s)
	switch v := s.(type) {
	case *avro.PrimitiveSchema:
		if l := v.Logical(); l != nil {
			switch l.Type() {
			case avro.TimestampMillis, avro.TimestampMicros, avro.Date, avro.LocalTimestampMillis, avro.LocalTimestampMicros:
				return typeTime
			case avro.Decimal:
				return typeRat
			case avro.UUID:
				return reflect.TypeOf("")
			}
		}
		switch v.Type() {
		case avro.String:
			return reflect.TypeOf("")
		case avro.Int:
			return reflect.TypeOf(int32(0))
		case avro.Long:
			return reflect.TypeOf(int64(0))
		case avro.Float:
			return reflect.TypeOf(float32(0))
		case avro.Double:
			return reflect.TypeOf(float64(0))
		case avro.Boolean:
			return reflect.TypeOf(false)
		case avro.Bytes:
			return typeBytes
		}
	case *avro.EnumSchema:
		return reflect.TypeOf("")
	case *avro.FixedSchema:
		return typeBytes
	case *avro.ArraySchema:
		return reflect.TypeOf([]any(nil))
	case *avro.MapSchema:
		return reflect.TypeOf(map[string]any(nil))
	case *avro.RecordSchema:
		return structOf(TypeOf(v).Fields)
	}
	return typeAny // unions, null: known only at run time
}

// structOf builds the struct type expressions are checked against.
func structOf(fields []Field) reflect.Type {
	sf := make([]reflect.StructField, 0, len(fields))
	for i, f := range fields {
		t := f.Go
		if t == nil {
			t = typeAny
		}
		sf = append(sf, reflect.StructField{
			Name: "F" + strconv.Itoa(i),
			Type: t,
			Tag:  reflect.StructTag(`expr:"` + f.Name + `"`),
		})
	}
	return reflect.StructOf(sf)
}

// Env is what expressions can see at one step of a pipeline.
type Env struct {
	Value *Type            // the current value
	State *Type            // the key's table state; nil for a stateless pipeline
	Vars  map[string]*Type // lookup results by name
	// Outputs are the pipeline's output names.
	Outputs map[string]bool
	// Tables are the tables lookup steps may read, by pipeline name.
	Tables map[string]*Type
}

// Clone copies the env so a step can change it for the steps after it.
func (e *Env) Clone() *Env {
	c := *e
	c.Vars = make(map[string]*Type, len(e.Vars))
	for k, v := range e.Vars {
		c.Vars[k] = v
	}
	return &c
}

// checkEnv is the typed environment expressions are compiled against: a
// struct whose fields (with `expr` tags) are the record's fields, the lookup
// variables, key, value, state and meta. A struct rather than a map so that a
// field of unknown type (a union) is an interface the checker lets through,
// where a nil map value would be an "unknown" it rejects in comparisons.
func (e *Env) checkEnv() (env any, strict bool) {
	strict = e.Value.IsRecord() && !e.Value.Open
	var fields []Field
	seen := map[string]bool{}
	add := func(name string, t reflect.Type) {
		if seen[name] {
			return
		}
		seen[name] = true
		fields = append(fields, Field{Name: name, Go: t})
	}
	add(VarKey, reflect.TypeOf(""))
	add(VarValue, typeOfZero(e.Value))
	if e.State != nil {
		add(VarState, typeOfZero(e.State))
	}
	add(VarMeta, reflect.TypeOf(Meta{}))
	for name, t := range e.Vars {
		add(name, typeOfZero(t))
	}
	if e.Value.IsRecord() {
		for _, f := range e.Value.Fields {
			add(f.Name, f.Go)
		}
	}
	return reflect.New(structOf(fields)).Elem().Interface(), strict
}

// typeOfZero is the checker's type for a value of t: a struct for a known
// record, any otherwise.
func typeOfZero(t *Type) reflect.Type {
	if !t.IsRecord() || t.Open {
		return typeAny
	}
	return structOf(t.Fields)
}
