package codecs

import (
	"errors"
	"fmt"

	"github.com/hamba/avro/v2"
)

// Binary reads and writes the canonical values of one schema as bare Avro binary: no
// frame, no registry, writer schema = reader schema. It is for values whose schema the
// caller knows from elsewhere and embeds in a format of its own, such as the state in a
// pipeline's table entries. A Binary is safe for concurrent use; the readers it makes are
// not.
type Binary struct {
	schema avro.Schema
	api    avro.API
	norm   normFn
	record bool
	read   readFn // nil when hamba's decoder must read the schema
	// decodeSchema is what hamba's decoder reads when it is not schema: the
	// writer schema resolved to it (NewResolvingBinary).
	decodeSchema avro.Schema
}

// NewBinary returns the Binary of schema s. It compiles what reading needs once.
func NewBinary(s avro.Schema) *Binary {
	api := avro.Config{MaxSliceAllocSize: maxSliceAlloc}.Freeze()
	return &Binary{schema: s, api: api, norm: prepare(api, s), record: derefSchema(s).Type() == avro.Record, read: compileRead(s)}
}

// NewResolvingBinary returns a Binary that reads values written with schema writer as
// values of schema reader (an evolution of it: writer fields the reader lacks are skipped,
// reader fields the writer lacks take their defaults), and writes them with reader. It
// fails when the reader cannot read what writer wrote, naming why.
func NewResolvingBinary(reader, writer avro.Schema) (*Binary, error) {
	if writer.Fingerprint() == reader.Fingerprint() {
		return NewBinary(reader), nil
	}
	// A fresh checker every time: a shared or reused one has given wrong answers.
	res, err := avro.NewSchemaCompatibility().Resolve(reader, writer)
	if err != nil {
		return nil, fmt.Errorf("%s cannot read values written as %s: %w", schemaName(reader), schemaName(writer), err)
	}
	api := avro.Config{MaxSliceAllocSize: maxSliceAlloc}.Freeze()
	b := &Binary{schema: reader, api: api, record: derefSchema(reader).Type() == avro.Record, read: compileResolve(reader, writer)}
	if b.read == nil {
		// hamba's decoder reads the resolved schema, writing still uses reader.
		b.decodeSchema, b.norm = res, prepare(api, res)
	}
	return b, nil
}

// Schema returns the schema of the values.
func (b *Binary) Schema() avro.Schema { return b.schema }

// Append appends the Avro binary encoding of v (a canonical value or anything Coerce
// accepts) to buf.
func (b *Binary) Append(buf []byte, v any) ([]byte, error) {
	out, err := appendValue(buf, b.schema, v)
	if err != nil {
		return buf, fmt.Errorf("encoding %s: %w", schemaName(b.schema), err)
	}
	return out, nil
}

// NewReader returns a reader for Read; Reset it onto each payload.
func (b *Binary) NewReader() *avro.Reader {
	return avro.NewReader(nil, 0, avro.WithReaderConfig(b.api))
}

// Read reads one value at r's position into its canonical form (a record is
// map[string]any). A failure is left in r.Error, as for hamba's own reads.
func (b *Binary) Read(r *avro.Reader) any {
	if b.read != nil {
		v := b.read(r)
		if r.Error != nil {
			return nil
		}
		return v
	}
	s := b.schema
	if b.decodeSchema != nil {
		s = b.decodeSchema
	}
	var v any
	if b.record {
		v = readRecord(r, s)
	} else {
		v = readAny(r, s)
	}
	if r.Error != nil {
		return nil
	}
	if b.norm != nil {
		v = b.norm(v)
	}
	return v
}

// ErrTrailingBytes says a payload held more bytes than its value.
var ErrTrailingBytes = errors.New("trailing bytes after the value")

// ReadEnd checks that r is exactly at the end of its payload, and returns r's error if a
// read failed before. It resets r's error either way, so that r can be reused.
func ReadEnd(r *avro.Reader) error {
	err := r.Error
	if err == nil {
		// Peek sets io.EOF exactly at the end.
		r.Peek()
		if r.Error == nil {
			err = ErrTrailingBytes
		}
	}
	r.Error = nil
	r.Reset(nil)
	return err
}
