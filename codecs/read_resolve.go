package codecs

import (
	"strconv"
	"time"

	"github.com/hamba/avro/v2"
)

// compileResolve returns the readFn of values written with writer and read as reader (an
// evolution of the same type), or nil when it meets something it does not resolve (then
// hamba's decoder of the resolved schema reads). It mirrors hamba's
// SchemaCompatibility.Resolve and the decoders of its result: writer fields the reader
// lacks are skipped, reader fields the writer lacks take their defaults, numbers and
// strings are promoted, union branches and enum symbols are matched. It must only be used
// once Resolve accepted the pair.
func compileResolve(reader, writer avro.Schema) readFn {
	c := resolveCompiler{readCompiler: readCompiler{seen: map[string]*readFn{}, strs: newInternTable()}, seen: map[[2]string]*readFn{}}
	return c.resolve(reader, writer)
}

type resolveCompiler struct {
	readCompiler
	seen map[[2]string]*readFn // record pairs by reader and writer full name, for recursive types
}

func (c *resolveCompiler) resolve(reader, writer avro.Schema) readFn {
	reader, writer = derefSchema(reader), derefSchema(writer)
	if writer.Type() != reader.Type() {
		switch {
		case reader.Type() == avro.Union:
			// The first reader branch the writer is compatible with reads it.
			for _, b := range reader.(*avro.UnionSchema).Types() {
				if avro.NewSchemaCompatibility().Compatible(b, writer) == nil {
					return c.resolve(b, writer)
				}
			}
			return nil
		case writer.Type() == avro.Union:
			return c.writerUnion(reader, writer.(*avro.UnionSchema))
		}
		return promote(reader, writer, c.strs)
	}
	switch w := writer.(type) {
	case *avro.NullSchema, *avro.PrimitiveSchema:
		return c.compile(reader)
	case *avro.EnumSchema:
		return resolveEnum(reader.(*avro.EnumSchema), w)
	case *avro.UnionSchema:
		return c.writerUnion(reader, w)
	case *avro.ArraySchema:
		item := c.resolve(reader.(*avro.ArraySchema).Items(), w.Items())
		if item == nil {
			return nil
		}
		return readArray(item)
	case *avro.MapSchema:
		value := c.resolve(reader.(*avro.MapSchema).Values(), w.Values())
		if value == nil {
			return nil
		}
		return readMap(value)
	case *avro.RecordSchema:
		return c.resolveRecord(reader.(*avro.RecordSchema), w)
	}
	return nil // fixed: hamba's decoder reads it
}

// writerUnion reads a writer union's branch index and the branch, each branch resolved to
// reader (a union or not).
func (c *resolveCompiler) writerUnion(reader avro.Schema, w *avro.UnionSchema) readFn {
	branches := make([]readFn, len(w.Types()))
	for i, t := range w.Types() {
		if branches[i] = c.resolve(reader, t); branches[i] == nil {
			return nil
		}
	}
	return readUnion(branches)
}

// promote reads a number as a wider one, a string as bytes and bytes as a string.
func promote(reader, writer avro.Schema, strs *internTable) readFn {
	r, okR := reader.(*avro.PrimitiveSchema)
	w, okW := writer.(*avro.PrimitiveSchema)
	if !okR || !okW || logicalType(r) != "" || logicalType(w) != "" {
		return nil
	}
	switch [2]avro.Type{w.Type(), r.Type()} {
	case [2]avro.Type{avro.Int, avro.Long}:
		return func(r *avro.Reader) any { return int64(r.ReadInt()) }
	case [2]avro.Type{avro.Int, avro.Float}:
		return func(r *avro.Reader) any { return float32(r.ReadInt()) }
	case [2]avro.Type{avro.Int, avro.Double}:
		return func(r *avro.Reader) any { return float64(r.ReadInt()) }
	case [2]avro.Type{avro.Long, avro.Float}:
		return func(r *avro.Reader) any { return float32(r.ReadLong()) }
	case [2]avro.Type{avro.Long, avro.Double}:
		return func(r *avro.Reader) any { return float64(r.ReadLong()) }
	case [2]avro.Type{avro.Float, avro.Double}:
		return func(r *avro.Reader) any { return float64(r.ReadFloat()) }
	case [2]avro.Type{avro.String, avro.Bytes}:
		return func(r *avro.Reader) any { return r.ReadBytes() }
	case [2]avro.Type{avro.Bytes, avro.String}:
		return func(r *avro.Reader) any { return strs.box(r.ReadString()) }
	}
	return nil
}

// resolveEnum reads a writer symbol as the reader's, or as the reader's default when the
// reader lacks it.
func resolveEnum(reader, writer *avro.EnumSchema) readFn {
	symbols := make([]any, len(writer.Symbols()))
	known := make([]bool, len(symbols))
	for i, s := range writer.Symbols() {
		for _, rs := range reader.Symbols() {
			if rs == s {
				symbols[i], known[i] = rs, true
			}
		}
		if !known[i] && reader.HasDefault() {
			symbols[i], known[i] = reader.Default(), true
		}
	}
	return func(r *avro.Reader) any {
		i := r.ReadInt()
		if i < 0 || int(i) >= len(symbols) || !known[i] {
			r.ReportError("ReadEnum", "symbol index "+strconv.Itoa(int(i))+" has no symbol in the reader schema")
			return nil
		}
		return symbols[i]
	}
}

func (c *resolveCompiler) resolveRecord(reader, writer *avro.RecordSchema) readFn {
	pair := [2]string{reader.FullName(), writer.FullName()}
	if fn, ok := c.seen[pair]; ok {
		return func(r *avro.Reader) any { return (*fn)(r) }
	}
	fn := new(readFn)
	c.seen[pair] = fn
	// steps are the writer's fields in order: read into a reader field, or skipped.
	type step struct {
		name string
		read readFn
		skip skipFn
	}
	type preset struct {
		name  string
		value any
	}
	steps := make([]step, 0, len(writer.Fields()))
	matched := map[string]bool{}
	for _, wf := range writer.Fields() {
		rf := readerField(reader, wf.Name())
		if rf == nil {
			skip := compileSkip(wf.Type())
			if skip == nil {
				return nil
			}
			steps = append(steps, step{skip: skip})
			continue
		}
		read := c.resolve(rf.Type(), wf.Type())
		if read == nil {
			return nil
		}
		steps = append(steps, step{name: rf.Name(), read: read})
		matched[rf.Name()] = true
	}
	var defaults []preset
	for _, rf := range reader.Fields() {
		if matched[rf.Name()] {
			continue
		}
		v, ok := defaultValue(rf)
		if !ok {
			return nil
		}
		defaults = append(defaults, preset{rf.Name(), v})
	}
	size := len(reader.Fields())
	*fn = func(r *avro.Reader) any {
		m := make(map[string]any, size)
		for _, s := range steps {
			if s.skip != nil {
				s.skip(r)
			} else {
				m[s.name] = s.read(r)
			}
			if r.Error != nil {
				return nil
			}
		}
		for _, d := range defaults {
			m[d.name] = d.value
		}
		return m
	}
	return *fn
}

// readerField is the reader's field a writer field named name is read into: the one of
// that name, else the first whose aliases hold it (hamba's getField).
func readerField(reader *avro.RecordSchema, name string) *avro.Field {
	for _, f := range reader.Fields() {
		if f.Name() == name {
			return f
		}
		for _, a := range f.Aliases() {
			if a == name {
				return f
			}
		}
	}
	return nil
}

// defaultValue is the value a reader field the writer lacks takes: its default, written
// and read again with the field's schema as hamba's decoder does. Only values no step can
// change in place are shared between messages: null, booleans, numbers, strings and times;
// ok is false for any other.
func defaultValue(f *avro.Field) (any, bool) {
	if !f.HasDefault() {
		return nil, false
	}
	read := compileRead(f.Type())
	if read == nil {
		return nil, false
	}
	data, err := avro.Marshal(f.Type(), f.Default())
	if err != nil {
		return nil, false
	}
	r := avro.NewReader(nil, 0)
	r.Reset(data)
	v := read(r)
	if ReadEnd(r) != nil {
		return nil, false
	}
	switch v.(type) {
	case nil, bool, int32, int64, float32, float64, string, time.Time, time.Duration:
		return v, true
	}
	return nil, false
}

// skipFn moves r past one value of a writer schema the reader does not read.
type skipFn func(r *avro.Reader)

// compileSkip returns the skipFn of s, nil for a recursive record (hamba's decoder
// skips those).
func compileSkip(s avro.Schema) skipFn {
	return skipCompiler{}.compile(s)
}

// skipCompiler holds the records being compiled, by full name.
type skipCompiler map[string]bool

func (c skipCompiler) compile(s avro.Schema) skipFn {
	switch sch := derefSchema(s).(type) {
	case *avro.NullSchema:
		return func(*avro.Reader) {}
	case *avro.PrimitiveSchema:
		switch sch.Type() {
		case avro.Null:
			return func(*avro.Reader) {}
		case avro.Boolean:
			return (*avro.Reader).SkipBool
		case avro.Int:
			return (*avro.Reader).SkipInt
		case avro.Long:
			return (*avro.Reader).SkipLong
		case avro.Float:
			return (*avro.Reader).SkipFloat
		case avro.Double:
			return (*avro.Reader).SkipDouble
		case avro.String:
			return (*avro.Reader).SkipString
		case avro.Bytes:
			return (*avro.Reader).SkipBytes
		}
	case *avro.EnumSchema:
		return (*avro.Reader).SkipInt
	case *avro.FixedSchema:
		size := sch.Size()
		return func(r *avro.Reader) { r.SkipNBytes(size) }
	case *avro.ArraySchema:
		item := c.compile(sch.Items())
		if item == nil {
			return nil
		}
		return func(r *avro.Reader) { skipBlocks(r, false, item) }
	case *avro.MapSchema:
		value := c.compile(sch.Values())
		if value == nil {
			return nil
		}
		return func(r *avro.Reader) { skipBlocks(r, true, value) }
	case *avro.UnionSchema:
		branches := make([]skipFn, len(sch.Types()))
		for i, t := range sch.Types() {
			if branches[i] = c.compile(t); branches[i] == nil {
				return nil
			}
		}
		return func(r *avro.Reader) {
			i := r.ReadLong()
			if i < 0 || i >= int64(len(branches)) {
				r.ReportError("ReadUnion", "branch index "+strconv.FormatInt(i, 10)+" out of range")
				return
			}
			branches[i](r)
		}
	case *avro.RecordSchema:
		if c[sch.FullName()] {
			return nil
		}
		c[sch.FullName()] = true
		defer delete(c, sch.FullName())
		fields := make([]skipFn, len(sch.Fields()))
		for i, f := range sch.Fields() {
			if fields[i] = c.compile(f.Type()); fields[i] == nil {
				return nil
			}
		}
		return func(r *avro.Reader) {
			for _, f := range fields {
				if f(r); r.Error != nil {
					return
				}
			}
		}
	}
	return nil
}

// skipBlocks skips an array's or a map's blocks, by their byte size when the writer gave it.
func skipBlocks(r *avro.Reader, keys bool, value skipFn) {
	for r.Error == nil {
		n, size := r.ReadBlockHeader()
		if n == 0 || r.Error != nil {
			return
		}
		if size > 0 {
			r.SkipNBytes(int(size))
			continue
		}
		if !blockFits(r, n, 0) {
			return
		}
		for range n {
			if keys {
				r.SkipString()
			}
			if value(r); r.Error != nil {
				return
			}
		}
	}
}
