package codecs

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"
)

// CoerceStrict is Coerce that also refuses an object key naming no field of its record
// schema, at any depth, where Coerce drops it. It suits hand-written input such as
// produce's JSON lines, where a key like "countyr" is a typo to report rather than data
// to discard.
func CoerceStrict(schema avro.Schema, v any) (any, error) {
	if err := unknownFields(schema, v); err != nil {
		return nil, fmt.Errorf("coercing to %s: %w", schemaName(schema), err)
	}
	return Coerce(schema, v)
}

// unknownFields returns an error naming the first key of v (in sorted order) that its
// record schema does not have. It walks only the shapes that match the schema and leaves
// every other mismatch to Coerce, which explains it better.
func unknownFields(s avro.Schema, v any) error {
	switch sch := s.(type) {
	case *avro.RefSchema:
		return unknownFields(sch.Schema(), v)
	case *avro.RecordSchema:
		m, ok := asMap(v)
		if !ok {
			return nil
		}
		fields := sch.Fields()
		names := make([]string, len(fields))
		for i, f := range fields {
			names[i] = f.Name()
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !slices.Contains(names, k) {
				return at(k, fmt.Errorf("not in record %s (fields: %s)", sch.FullName(), strings.Join(names, ", ")))
			}
		}
		for _, f := range fields {
			fv, ok := m[f.Name()]
			if !ok {
				continue
			}
			if err := unknownFields(f.Type(), fv); err != nil {
				return at(f.Name(), err)
			}
		}
		return nil
	case *avro.ArraySchema:
		items, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, item := range items {
			if err := unknownFields(sch.Items(), item); err != nil {
				return at("["+strconv.Itoa(i)+"]", err)
			}
		}
		return nil
	case *avro.MapSchema:
		m, ok := asMap(v)
		if !ok {
			return nil
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if err := unknownFields(sch.Values(), m[k]); err != nil {
				return at("["+k+"]", err)
			}
		}
		return nil
	case *avro.UnionSchema:
		_, branch, val, err := pickBranch(sch, v)
		if err != nil {
			return nil
		}
		return unknownFields(branch, val)
	}
	return nil
}
