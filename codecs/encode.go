package codecs

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/hamba/avro/v2"
)

// appendValue appends the Avro binary encoding of v under schema s to buf. It converts
// loosely typed values exactly like Coerce (they share the scalar conversions and union
// branch selection) but writes as it walks, so encoding a canonical map builds no copy.
func appendValue(buf []byte, s avro.Schema, v any) ([]byte, error) {
	switch sch := s.(type) {
	case *avro.PrimitiveSchema:
		return appendPrimitive(buf, sch, v)
	case *avro.RecordSchema:
		m, ok := v.(map[string]any)
		if !ok {
			if m, ok = asMap(v); !ok {
				return buf, typeError("record "+sch.FullName(), v)
			}
		}
		for _, f := range sch.Fields() {
			fv, present := m[f.Name()]
			if !present {
				if !f.HasDefault() {
					return buf, at(f.Name(), fmt.Errorf("missing (no default)"))
				}
				fv = fieldDefault(f)
			}
			var err error
			if buf, err = appendValue(buf, f.Type(), fv); err != nil {
				return buf, at(f.Name(), err)
			}
		}
		return buf, nil
	case *avro.UnionSchema:
		idx, branch, val, err := pickBranch(sch, v)
		if err != nil {
			return buf, err
		}
		buf = binary.AppendVarint(buf, int64(idx))
		return appendValue(buf, branch, val)
	case *avro.RefSchema:
		return appendValue(buf, sch.Schema(), v)
	case *avro.EnumSchema:
		str, err := toString(v)
		if err != nil {
			return buf, err
		}
		for i, sym := range sch.Symbols() {
			if sym == str {
				return binary.AppendVarint(buf, int64(i)), nil
			}
		}
		return buf, fmt.Errorf("%q is not a symbol of enum %s %v", str, sch.FullName(), sch.Symbols())
	case *avro.ArraySchema:
		n := 0
		start := len(buf)
		err := eachItem(v, func(i int, item any) error {
			if i == 0 {
				buf = append(buf, 0) // placeholder for the count, rewritten below
			}
			n++
			var err error
			if buf, err = appendValue(buf, sch.Items(), item); err != nil {
				return at("["+strconv.Itoa(i)+"]", err)
			}
			return nil
		})
		if err != nil {
			return buf, err
		}
		return finishBlock(buf, start, n), nil
	case *avro.MapSchema:
		n := 0
		start := len(buf)
		err := eachEntry(v, func(k string, val any) error {
			if n == 0 {
				buf = append(buf, 0)
			}
			n++
			buf = appendString(buf, k)
			var err error
			if buf, err = appendValue(buf, sch.Values(), val); err != nil {
				return at("["+k+"]", err)
			}
			return nil
		})
		if err != nil {
			return buf, err
		}
		return finishBlock(buf, start, n), nil
	case *avro.FixedSchema:
		if l := sch.Logical(); l != nil && l.Type() == avro.Decimal {
			b, r, err := decimalBytes(v, l)
			if err != nil {
				return buf, err
			}
			if len(b) > sch.Size() {
				return buf, fmt.Errorf("decimal %s does not fit fixed(%d)", r.RatString(), sch.Size())
			}
			pad := byte(0)
			if b[0]&0x80 != 0 {
				pad = 0xff
			}
			for k := len(b); k < sch.Size(); k++ {
				buf = append(buf, pad)
			}
			return append(buf, b...), nil
		}
		if l := sch.Logical(); l != nil && l.Type() == avro.Duration {
			d, ok := v.(avro.LogicalDuration)
			if !ok {
				return buf, typeError("avro.LogicalDuration", v)
			}
			buf = binary.LittleEndian.AppendUint32(buf, d.Months)
			buf = binary.LittleEndian.AppendUint32(buf, d.Days)
			return binary.LittleEndian.AppendUint32(buf, d.Milliseconds), nil
		}
		b, err := coerceFixed(sch, v)
		if err != nil {
			return buf, err
		}
		return append(buf, b.([]byte)...), nil
	case *avro.NullSchema:
		if v != nil {
			return buf, typeError("null", v)
		}
		return buf, nil
	}
	return buf, fmt.Errorf("unsupported schema type %s", s.Type())
}

// finishBlock closes an array or map: one block of n items (its count written in the
// placeholder byte at start, the items shifted when the count needs more bytes), then the
// terminating 0 block. An empty one is just the 0.
func finishBlock(buf []byte, start, n int) []byte {
	if n == 0 {
		return append(buf, 0)
	}
	var cnt [binary.MaxVarintLen64]byte
	c := binary.PutVarint(cnt[:], int64(n))
	if c > 1 {
		buf = append(buf, cnt[1:c]...) // grow
		copy(buf[start+c:], buf[start+1:len(buf)-(c-1)])
	}
	copy(buf[start:], cnt[:c])
	return append(buf, 0)
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendVarint(buf, int64(len(s)))
	return append(buf, s...)
}

func appendPrimitive(buf []byte, s *avro.PrimitiveSchema, v any) ([]byte, error) {
	switch s.Type() {
	case avro.String:
		str, err := toString(v)
		if err != nil {
			return buf, err
		}
		if l := s.Logical(); l != nil && l.Type() == avro.UUID && !validUUID(str) {
			return buf, fmt.Errorf("%q is not a UUID", str)
		}
		return appendString(buf, str), nil
	case avro.Long:
		var n int64
		var err error
		switch logicalType(s) {
		case "":
			n, err = toInt64(v)
		case avro.TimestampMillis, avro.LocalTimestampMillis:
			var t time.Time
			t, err = toTime(v, unitMillis)
			n = t.UnixMilli()
		case avro.TimestampMicros, avro.LocalTimestampMicros:
			var t time.Time
			t, err = toTime(v, unitMicros)
			n = t.UnixMicro()
		case avro.TimeMicros:
			var d time.Duration
			d, err = toDuration(v, unitMicros)
			n = d.Microseconds()
		default:
			n, err = toInt64(v)
		}
		if err != nil {
			return buf, err
		}
		return binary.AppendVarint(buf, n), nil
	case avro.Double:
		f, err := toFloat64(v)
		if err != nil {
			return buf, err
		}
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(f)), nil
	case avro.Int:
		var n int32
		var err error
		switch logicalType(s) {
		case avro.Date:
			var t time.Time
			if t, err = toTime(v, unitDays); err == nil {
				days := daysSinceEpoch(t)
				if days < math.MinInt32 || days > math.MaxInt32 {
					return buf, rangeError("date", v)
				}
				n = int32(days)
			}
		case avro.TimeMillis:
			var d time.Duration
			if d, err = toTimeMillis(v); err == nil {
				n = int32(d.Milliseconds())
			}
		default:
			n, err = toInt32(v)
		}
		if err != nil {
			return buf, err
		}
		return binary.AppendVarint(buf, int64(n)), nil
	case avro.Boolean:
		b, err := toBool(v)
		if err != nil {
			return buf, err
		}
		if b {
			return append(buf, 1), nil
		}
		return append(buf, 0), nil
	case avro.Float:
		f, err := toFloat32(v)
		if err != nil {
			return buf, err
		}
		return binary.LittleEndian.AppendUint32(buf, math.Float32bits(f)), nil
	case avro.Bytes:
		if l := s.Logical(); l != nil && l.Type() == avro.Decimal {
			b, _, err := decimalBytes(v, l)
			if err != nil {
				return buf, err
			}
			buf = binary.AppendVarint(buf, int64(len(b)))
			return append(buf, b...), nil
		}
		b, err := toBytes(v)
		if err != nil {
			return buf, err
		}
		buf = binary.AppendVarint(buf, int64(len(b)))
		return append(buf, b...), nil
	case avro.Null:
		if v != nil {
			return buf, typeError("null", v)
		}
		return buf, nil
	}
	return buf, fmt.Errorf("unsupported schema type %s", s.Type())
}

// decimalBytes is v as a decimal's unscaled two's-complement bytes, with the
// value itself for messages.
func decimalBytes(v any, l avro.LogicalSchema) ([]byte, *big.Rat, error) {
	r, err := toRat(v)
	if err != nil {
		return nil, nil, err
	}
	i, err := unscaled(r, l.(*avro.DecimalLogicalSchema).Scale())
	if err != nil {
		return nil, nil, err
	}
	return twosComplement(i), r, nil
}
