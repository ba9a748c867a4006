package render

import (
	"bytes"
	"fmt"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
)

// Avro renders v, decoded with reader schema s, as JSON (codecs.ToJSON),
// with record fields in schema order, as Avro console consumers print them,
// rather than encoding/json's sorted map order.
func Avro(s avro.Schema, v any) (Value, error) {
	var buf bytes.Buffer
	if err := writeAvroJSON(&buf, s, v); err != nil {
		return Value{}, fmt.Errorf("rendering avro value as JSON: %w", err)
	}
	return Value{JSON: buf.Bytes()}, nil
}

func writeAvroJSON(buf *bytes.Buffer, s avro.Schema, v any) error {
	switch sch := s.(type) {
	case *avro.RefSchema:
		return writeAvroJSON(buf, sch.Schema(), v)
	case *avro.RecordSchema:
		m, ok := v.(map[string]any)
		if !ok {
			break
		}
		buf.WriteByte('{')
		n := 0
		for _, f := range sch.Fields() {
			fv, ok := m[f.Name()]
			if !ok {
				continue
			}
			if n > 0 {
				buf.WriteByte(',')
			}
			n++
			if err := writePlainJSON(buf, f.Name()); err != nil {
				return err
			}
			buf.WriteByte(':')
			if err := writeAvroJSON(buf, f.Type(), fv); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case *avro.ArraySchema:
		items, ok := v.([]any)
		if !ok {
			break
		}
		buf.WriteByte('[')
		for i, item := range items {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeAvroJSON(buf, sch.Items(), item); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case *avro.UnionSchema:
		if rec := onlyRecordBranch(sch); rec != nil && v != nil {
			if _, ok := v.(map[string]any); ok {
				return writeAvroJSON(buf, rec, v)
			}
		}
	}
	return writePlainJSON(buf, codecs.ToJSON(v))
}

// onlyRecordBranch returns the union's record branch when it has exactly one.
func onlyRecordBranch(u *avro.UnionSchema) avro.Schema {
	var rec avro.Schema
	for _, t := range u.Types() {
		b := t
		if ref, ok := b.(*avro.RefSchema); ok {
			b = ref.Schema()
		}
		if _, ok := b.(*avro.RecordSchema); ok {
			if rec != nil {
				return nil
			}
			rec = b
		}
	}
	return rec
}

func writePlainJSON(buf *bytes.Buffer, v any) error {
	if err := NewEncoder(buf).Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	return nil
}
