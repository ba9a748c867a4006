package codecs

import (
	"strconv"
	"time"

	"github.com/hamba/avro/v2"
)

// readFn reads one value of a schema from r in its canonical form, leaving a failure in
// r.Error. Decoding through hamba's generic map decoder costs a reflect allocation per
// field; a readFn compiled from the schema reads with r's primitives straight into the
// canonical values, so a record costs its map, its strings and the boxing of its numbers.
type readFn func(r *avro.Reader) any

// compileRead returns the readFn of schema s, or nil when s holds a type it does not read
// (decimals, fixed, durations, local timestamps: hamba's decoder and the normaliser read
// those). It must only
// be used when the writer schema is s itself (the same canonical form): it resolves nothing.
func compileRead(s avro.Schema) readFn {
	c := readCompiler{seen: map[string]*readFn{}, strs: newInternTable()}
	return c.compile(s)
}

type readCompiler struct {
	seen map[string]*readFn // records by full name, for recursive types
	strs *internTable       // boxes the strings read
}

func (c *readCompiler) compile(s avro.Schema) readFn {
	switch sch := s.(type) {
	case *avro.RefSchema:
		return c.compile(sch.Schema())
	case *avro.NullSchema:
		return func(*avro.Reader) any { return nil }
	case *avro.PrimitiveSchema:
		return compilePrimitive(sch, c.strs)
	case *avro.EnumSchema:
		symbols := boxed(sch.Symbols())
		return func(r *avro.Reader) any {
			i := r.ReadInt()
			if i < 0 || int(i) >= len(symbols) {
				r.ReportError("ReadEnum", "symbol index "+strconv.Itoa(int(i))+" out of range")
				return nil
			}
			return symbols[i]
		}
	case *avro.ArraySchema:
		item := c.compile(sch.Items())
		if item == nil {
			return nil
		}
		return readArray(item)
	case *avro.MapSchema:
		value := c.compile(sch.Values())
		if value == nil {
			return nil
		}
		return readMap(value)
	case *avro.UnionSchema:
		branches := make([]readFn, len(sch.Types()))
		for i, t := range sch.Types() {
			if branches[i] = c.compile(t); branches[i] == nil {
				return nil
			}
		}
		return readUnion(branches)
	case *avro.RecordSchema:
		if fn, ok := c.seen[sch.FullName()]; ok {
			return func(r *avro.Reader) any { return (*fn)(r) }
		}
		fn := new(readFn)
		c.seen[sch.FullName()] = fn
		type field struct {
			name string
			read readFn
		}
		fields := make([]field, len(sch.Fields()))
		for i, f := range sch.Fields() {
			if fields[i] = (field{f.Name(), c.compile(f.Type())}); fields[i].read == nil {
				return nil
			}
		}
		*fn = func(r *avro.Reader) any {
			m := make(map[string]any, len(fields))
			for _, f := range fields {
				m[f.name] = f.read(r)
				if r.Error != nil {
					return nil
				}
			}
			return m
		}
		return *fn
	}
	return nil
}

// readArray reads an array of items.
func readArray(item readFn) readFn {
	return func(r *avro.Reader) any {
		out := []any{}
		for r.Error == nil {
			n, _ := r.ReadBlockHeader()
			if n == 0 || !blockFits(r, n, len(out)) {
				break
			}
			for range n {
				out = append(out, item(r))
				if r.Error != nil {
					break
				}
			}
		}
		return out
	}
}

// readMap reads a map of values.
func readMap(value readFn) readFn {
	return func(r *avro.Reader) any {
		out := map[string]any{}
		for r.Error == nil {
			n, _ := r.ReadBlockHeader()
			if n == 0 || !blockFits(r, n, len(out)) {
				break
			}
			for range n {
				k := r.ReadString()
				out[k] = value(r)
				if r.Error != nil {
					break
				}
			}
		}
		return out
	}
}

// readUnion reads a branch index and the branch.
func readUnion(branches []readFn) readFn {
	return func(r *avro.Reader) any {
		i := r.ReadLong()
		if i < 0 || i >= int64(len(branches)) {
			r.ReportError("ReadUnion", "branch index "+strconv.FormatInt(i, 10)+" out of range")
			return nil
		}
		return branches[i](r)
	}
}

// blockFits reports whether an array or map block of n more items may be read after have,
// reporting the error in r when not: a corrupt count must not make the reader loop or
// allocate without bound.
func blockFits(r *avro.Reader, n int64, have int) bool {
	if n < 0 || n > maxSliceAlloc-int64(have) {
		r.ReportError("ReadBlock", "block of "+strconv.FormatInt(n, 10)+" items is too large")
		return false
	}
	return true
}

// boxed returns each of symbols in an any, boxed once rather than at each read.
func boxed(symbols []string) []any {
	out := make([]any, len(symbols))
	for i, s := range symbols {
		out[i] = s
	}
	return out
}

// compilePrimitive returns the readFn of s; strs boxes its strings.
func compilePrimitive(s *avro.PrimitiveSchema, strs *internTable) readFn {
	lt := logicalType(s)
	switch s.Type() {
	case avro.Null:
		return func(*avro.Reader) any { return nil }
	case avro.Boolean:
		return func(r *avro.Reader) any { return r.ReadBool() }
	case avro.Int:
		switch lt {
		case "":
			return func(r *avro.Reader) any { return r.ReadInt() }
		case avro.Date:
			return func(r *avro.Reader) any { return time.Unix(int64(r.ReadInt())*86400, 0).UTC() }
		case avro.TimeMillis:
			return func(r *avro.Reader) any { return time.Duration(r.ReadInt()) * time.Millisecond }
		}
	case avro.Long:
		switch lt {
		case "":
			return func(r *avro.Reader) any { return r.ReadLong() }
		case avro.TimestampMillis:
			return func(r *avro.Reader) any { return time.UnixMilli(r.ReadLong()).UTC() }
		case avro.TimestampMicros:
			return func(r *avro.Reader) any { return time.UnixMicro(r.ReadLong()).UTC() }
		case avro.TimeMicros:
			return func(r *avro.Reader) any { return time.Duration(r.ReadLong()) * time.Microsecond }
		}
	case avro.Float:
		return func(r *avro.Reader) any { return r.ReadFloat() }
	case avro.Double:
		return func(r *avro.Reader) any { return r.ReadDouble() }
	case avro.String:
		return func(r *avro.Reader) any { return strs.box(r.ReadString()) }
	case avro.Bytes:
		if lt == "" {
			return func(r *avro.Reader) any { return r.ReadBytes() }
		}
	}
	// Decimals, and local timestamps (hamba gives them in time.Local, which
	// a compiled read would have to copy): hamba's decoder reads them.
	return nil
}
