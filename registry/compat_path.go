package registry

import (
	"slices"
	"strings"

	"github.com/hamba/avro/v2"
)

// maxPathDepth bounds the walk through nested (possibly recursive) types.
const maxPathDepth = 32

// blame finds where reader cannot read writer: the path of the innermost field
// to blame (a.b.c, with [] for array items and {} for map values) and hamba's
// error for that innermost pair. hamba's top-level message names a missing
// field but not where it sits, and a type mismatch without its field; path is
// "" when no field is to blame (a top-level type or name mismatch).
func blame(reader, writer avro.Schema) (path string, cause error) {
	p, err := walkIncompatible(reader, writer, 0)
	return strings.TrimPrefix(p, "."), err
}

// walkIncompatible returns the path below reader/writer as ".field", "[]" and
// "{}" steps with the innermost error, or "" and this level's error.
func walkIncompatible(reader, writer avro.Schema, depth int) (string, error) {
	err := compatible(reader, writer)
	if err == nil || depth > maxPathDepth {
		return "", err
	}
	reader, writer = deref(reader), deref(writer)
	switch r := reader.(type) {
	case *avro.RecordSchema:
		w, ok := writer.(*avro.RecordSchema)
		if !ok {
			break
		}
		for _, rf := range r.Fields() {
			wf := writerField(w, rf)
			if wf == nil {
				if !rf.HasDefault() {
					return "." + rf.Name(), err // hamba's record-level error names it
				}
				continue
			}
			if p, e := walkIncompatible(rf.Type(), wf.Type(), depth+1); e != nil {
				return "." + rf.Name() + p, e
			}
		}
	case *avro.ArraySchema:
		if w, ok := writer.(*avro.ArraySchema); ok {
			if p, e := walkIncompatible(r.Items(), w.Items(), depth+1); e != nil {
				return "[]" + p, e
			}
		}
	case *avro.MapSchema:
		if w, ok := writer.(*avro.MapSchema); ok {
			if p, e := walkIncompatible(r.Values(), w.Values(), depth+1); e != nil {
				return "{}" + p, e
			}
		}
	case *avro.UnionSchema:
		// Look inside the reader branch of the same type (and name) as the
		// first writer branch the reader cannot read; a branch missing from
		// the reader is best told by this level's "reader union lacking" error.
		for _, wb := range writerBranches(writer) {
			if compatible(r, wb) == nil {
				continue
			}
			for _, rb := range r.Types() {
				if sameKind(rb, wb) {
					if p, e := walkIncompatible(rb, wb, depth+1); p != "" {
						return p, e
					}
				}
			}
			return "", err
		}
	}
	if wu, ok := writer.(*avro.UnionSchema); ok && reader.Type() != avro.Union {
		for _, wb := range wu.Types() {
			if p, e := walkIncompatible(reader, wb, depth+1); p != "" {
				return p, e
			}
		}
	}
	return "", err
}

func deref(s avro.Schema) avro.Schema {
	if ref, ok := s.(*avro.RefSchema); ok {
		return ref.Schema()
	}
	return s
}

// writerField finds the writer's field a reader field reads: same name, or one of its aliases.
func writerField(w *avro.RecordSchema, rf *avro.Field) *avro.Field {
	for _, wf := range w.Fields() {
		if wf.Name() == rf.Name() || slices.Contains(rf.Aliases(), wf.Name()) {
			return wf
		}
	}
	return nil
}

func writerBranches(w avro.Schema) []avro.Schema {
	if u, ok := w.(*avro.UnionSchema); ok {
		return u.Types()
	}
	return []avro.Schema{w}
}

func sameKind(a, b avro.Schema) bool {
	a, b = deref(a), deref(b)
	if a.Type() != b.Type() {
		return false
	}
	an, aok := a.(avro.NamedSchema)
	bn, bok := b.(avro.NamedSchema)
	return !aok || !bok || an.Name() == bn.Name()
}
