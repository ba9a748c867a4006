package codecs

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
)

// Scalar conversions from loosely typed Go values (what JSON, YAML, expressions and user code
// produce) to the canonical representation. Coerce and the Avro encoder share them, so both
// accept exactly the same inputs. The canonical type is always the first case of each switch.

func toBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if b, err := strconv.ParseBool(x); err == nil {
			return b, nil
		}
	}
	return false, typeError("boolean", v)
}

func toInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case float64:
		return floatToInt64(x, v)
	case json.Number:
		return jsonInt64(x)
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint:
		if uint64(x) > math.MaxInt64 {
			return 0, rangeError("long", v)
		}
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, rangeError("long", v)
		}
		return int64(x), nil
	case float32:
		return floatToInt64(float64(x), v)
	case time.Duration:
		return int64(x), nil
	}
	return 0, typeError("integer", v)
}

func floatToInt64(f float64, v any) (int64, error) {
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%v is not an integer", v)
	}
	if f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, rangeError("long", v)
	}
	return int64(f), nil
}

func toInt32(v any) (int32, error) {
	if x, ok := v.(int32); ok {
		return x, nil
	}
	i, err := toInt64(v)
	if err != nil {
		return 0, err
	}
	if i < math.MinInt32 || i > math.MaxInt32 {
		return 0, rangeError("int", v)
	}
	return int32(i), nil
}

func toFloat64(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case json.Number:
		return jsonFloat64(x)
	case int8, int16, uint8, uint16, uint32, uint, uint64:
		i, err := toInt64(v)
		if err != nil {
			return 0, err
		}
		return float64(i), nil
	}
	return 0, typeError("number", v)
}

func toFloat32(v any) (float32, error) {
	if x, ok := v.(float32); ok {
		return x, nil
	}
	f, err := toFloat64(v)
	if err != nil {
		return 0, err
	}
	if !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) > math.MaxFloat32 {
		return 0, rangeError("float", v)
	}
	return float32(f), nil
}

func toString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	}
	return "", typeError("string", v)
}

func toBytes(v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	}
	return nil, typeError("bytes", v)
}

// timeUnit is the unit a number stands for in a timestamp or time-of-day field.
type timeUnit int64

const (
	unitMillis timeUnit = timeUnit(time.Millisecond)
	unitMicros timeUnit = timeUnit(time.Microsecond)
	unitDays   timeUnit = timeUnit(24 * time.Hour)
)

// toTime converts time.Time, a number of units since the Unix epoch, or an RFC 3339 string
// (a "2006-01-02" date too) to a UTC time truncated to the unit.
func toTime(v any, unit timeUnit) (time.Time, error) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case string:
		var err error
		t, err = time.Parse(time.RFC3339Nano, x)
		if err != nil {
			t, err = time.Parse(time.DateOnly, x)
		}
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor a date", x)
		}
	default:
		n, err := toInt64(v)
		if err != nil {
			return time.Time{}, numberError("time", v, err)
		}
		switch unit {
		case unitMillis:
			return time.UnixMilli(n).UTC(), nil
		case unitMicros:
			return time.UnixMicro(n).UTC(), nil
		default: // a date is an Avro int
			if n < math.MinInt32 || n > math.MaxInt32 {
				return time.Time{}, rangeError("date", v)
			}
			return time.Unix(n*86400, 0).UTC(), nil
		}
	}
	return truncTime(t, unit), nil
}

func truncTime(t time.Time, unit timeUnit) time.Time {
	switch unit {
	case unitMillis:
		return time.UnixMilli(t.UnixMilli()).UTC()
	case unitMicros:
		return time.UnixMicro(t.UnixMicro()).UTC()
	default:
		y, m, d := t.UTC().Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
}

// daysSinceEpoch returns the date of t (in UTC) as days since 1970-01-01.
func daysSinceEpoch(t time.Time) int64 {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// toDuration converts time.Duration or a number of units to a duration.
func toDuration(v any, unit timeUnit) (time.Duration, error) {
	if d, ok := v.(time.Duration); ok {
		return d, nil
	}
	n, err := toInt64(v)
	if err != nil {
		return 0, numberError("time of day", v, err)
	}
	if n > math.MaxInt64/int64(unit) || n < math.MinInt64/int64(unit) {
		return 0, rangeError("time of day", v)
	}
	return time.Duration(n) * time.Duration(unit), nil
}

// toTimeMillis converts like toDuration in milliseconds, for a time-millis
// field, which is an Avro int.
func toTimeMillis(v any) (time.Duration, error) {
	d, err := toDuration(v, unitMillis)
	if err != nil {
		return 0, err
	}
	if ms := d.Milliseconds(); ms < math.MinInt32 || ms > math.MaxInt32 {
		return 0, rangeError("time-millis", v)
	}
	return d.Truncate(time.Millisecond), nil
}

// toRat converts *big.Rat, big.Rat, integers, floats (by their shortest decimal form),
// json.Number and decimal strings to a rational number.
func toRat(v any) (*big.Rat, error) {
	switch x := v.(type) {
	case *big.Rat:
		if x == nil {
			return nil, typeError("decimal", v)
		}
		return x, nil
	case big.Rat:
		return &x, nil
	case *big.Int:
		return new(big.Rat).SetInt(x), nil
	case float64:
		return ratFromString(strconv.FormatFloat(x, 'g', -1, 64), v)
	case float32:
		return ratFromString(strconv.FormatFloat(float64(x), 'g', -1, 32), v)
	case json.Number:
		return ratFromString(string(x), v)
	case string:
		return ratFromString(x, v)
	}
	i, err := toInt64(v)
	if err != nil {
		return nil, typeError("decimal", v)
	}
	return new(big.Rat).SetInt64(i), nil
}

func ratFromString(s string, v any) (*big.Rat, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, typeError("decimal", v)
	}
	return r, nil
}

// unscaled returns r * 10^scale as an integer, or an error when r has more fractional digits.
func unscaled(r *big.Rat, scale int) (*big.Int, error) {
	n := new(big.Int).Mul(r.Num(), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
	q, m := new(big.Int).QuoRem(n, r.Denom(), new(big.Int))
	if m.Sign() != 0 {
		return nil, fmt.Errorf("decimal %s has more than %d fractional digits", r.RatString(), scale)
	}
	return q, nil
}

// twosComplement returns the minimal big-endian two's-complement bytes of i.
func twosComplement(i *big.Int) []byte {
	if i.Sign() >= 0 {
		b := i.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	t := new(big.Int).Neg(i)
	t.Sub(t, big.NewInt(1))
	b := t.Bytes()
	for k := range b {
		b[k] = ^b[k]
	}
	if len(b) == 0 || b[0]&0x80 == 0 {
		b = append([]byte{0xff}, b...)
	}
	return b
}

// validUUID reports whether s has the 8-4-4-4-12 hex form.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func typeError(want string, v any) error {
	if v == nil {
		return fmt.Errorf("null where %s expected", want)
	}
	return fmt.Errorf("%T %s where %s expected", v, short(v), want)
}

// numberError is err when v is a number that does not fit (a fraction, out
// of range), else the type error of a v that is not a number at all.
func numberError(want string, v any, err error) error {
	switch v.(type) {
	case json.Number, float64, float32, int, int64, int32, int16, int8, uint, uint64, uint32, uint16, uint8:
		return err
	}
	return typeError(want, v)
}

func rangeError(want string, v any) error {
	return fmt.Errorf("%v out of range for %s", v, want)
}

// short renders a value for an error message without dumping large values.
func short(v any) string {
	s := fmt.Sprintf("%v", v)
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return "(" + s + ")"
}

// fieldError carries the path of the field a conversion failed at.
type fieldError struct {
	path []string // innermost last once complete
	err  error
}

func (e *fieldError) Error() string {
	p := ""
	for i := len(e.path) - 1; i >= 0; i-- {
		seg := e.path[i]
		if p != "" && seg != "" && seg[0] != '[' {
			p += "."
		}
		p += seg
	}
	if p == "" {
		return e.err.Error()
	}
	return "field " + p + ": " + e.err.Error()
}

func (e *fieldError) Unwrap() error { return e.err }

// at adds a path segment (a field name, or "[i]" / "[key]") in front of err's path.
// Segments are appended innermost first and reversed when printed.
func at(seg string, err error) error {
	var fe *fieldError
	if errors.As(err, &fe) {
		fe.path = append(fe.path, seg)
		return fe
	}
	return &fieldError{path: []string{seg}, err: err}
}
