package codecs_test

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/codecs"
)

// numbersSchema has a field of every numeric Avro type.
const numbersSchema = `{"type": "record", "name": "Numbers", "namespace": "t", "fields": [
  {"name": "l", "type": "long"},
  {"name": "i", "type": "int"},
  {"name": "f", "type": "float"},
  {"name": "d", "type": "double"},
  {"name": "ol", "type": ["null", "long"], "default": null},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "us", "type": {"type": "long", "logicalType": "time-micros"}},
  {"name": "day", "type": {"type": "int", "logicalType": "date"}},
  {"name": "tod", "type": {"type": "int", "logicalType": "time-millis"}}
]}`

func numbers() map[string]any {
	return map[string]any{"l": json.Number("1"), "i": json.Number("1"), "f": json.Number("1"), "d": json.Number("1"),
		"ts": json.Number("1"), "us": json.Number("1"), "day": json.Number("1"), "tod": json.Number("1")}
}

// JSON numbers (what `sluice produce` reads) are converted exactly: one past
// the range of its field's Avro type, or with a fraction where an integer is
// wanted, is an error naming the field, never a rounded or wrapped value. The
// Avro encoder converts the same way.
func TestCoerceJSONNumbersExactly(t *testing.T) {
	s := codecs.NewSchemas()
	sch := mustParse(t, s, numbersSchema)
	enc := mustAvro(t, newTestRegistry(t).client(), s, sch, codecs.WithSubjectName("numbers-value"))
	for _, c := range []struct {
		field, number string
		want          any    // the canonical value, when accepted
		err           string // the error, when not
	}{
		{"l", "-9223372036854775808", int64(math.MinInt64), ""},
		{"l", "9223372036854775807", int64(math.MaxInt64), ""},
		{"l", "-9223372036854775809", nil, "field l: -9223372036854775809 out of range for long"},
		{"l", "9223372036854775808", nil, "field l: 9223372036854775808 out of range for long"},
		{"l", "-9223372036854775808.0", int64(math.MinInt64), ""},
		{"l", "-9223372036854775809.0", nil, "field l: -9223372036854775809.0 out of range for long"},
		{"l", "9007199254740993.0", int64(9007199254740993), ""}, // past float64's exact integers
		{"l", "1e3", int64(1000), ""},
		{"l", "70e-1", int64(7), ""},
		{"l", "0.0012e4", int64(12), ""},
		{"l", "-0.0", int64(0), ""},
		{"l", "1e18", int64(1e18), ""},
		{"l", "1e19", nil, "field l: 1e19 out of range for long"},
		{"l", "1e999999999999999999999", nil, "field l: 1e999999999999999999999 out of range for long"},
		{"l", "1.5", nil, "field l: 1.5 is not an integer"},
		{"l", "1.00000000000000001", nil, "field l: 1.00000000000000001 is not an integer"},
		{"l", "1e-400", nil, "field l: 1e-400 is not an integer"},
		{"l", "1e-999999999999999999999", nil, "field l: 1e-999999999999999999999 is not an integer"},
		{"l", "0x10", nil, "field l: json.Number (0x10) where integer expected"},
		{"l", "Inf", nil, "field l: json.Number (Inf) where integer expected"},
		{"i", "2147483647", int32(math.MaxInt32), ""},
		{"i", "-2147483648", int32(math.MinInt32), ""},
		{"i", "2147483648", nil, "field i: 2147483648 out of range for int"},
		{"i", "-2147483649", nil, "field i: -2147483649 out of range for int"},
		{"i", "-9223372036854775809", nil, "field i: -9223372036854775809 out of range for long"},
		{"f", "3.4028234e38", float32(math.MaxFloat32), ""},
		{"f", "3.5e38", nil, "field f: 3.5e38 out of range for float"},
		{"d", "1.7976931348623157e308", math.MaxFloat64, ""},
		{"d", "1e309", nil, "field d: 1e309 out of range for double"},
		{"d", "-1e309", nil, "field d: -1e309 out of range for double"},
		{"d", "1e-400", 0.0, ""}, // below the smallest double: zero, as any float rounds
		{"ol", "9223372036854775808", nil, "field ol: 9223372036854775808 out of range for long"},
		{"ts", "-9223372036854775809", nil, "field ts: -9223372036854775809 out of range for long"},
		{"us", "9223372036854776", nil, "field us: 9223372036854776 out of range for time of day"},
		{"day", "2147483647", time.Unix(math.MaxInt32*86400, 0).UTC(), ""},
		{"day", "2147483648", nil, "field day: 2147483648 out of range for date"},
		{"tod", "2147483647", math.MaxInt32 * time.Millisecond, ""},
		{"tod", "2147483648", nil, "field tod: 2147483648 out of range for time-millis"},
	} {
		v := numbers()
		v[c.field] = json.Number(c.number)
		got, err := codecs.Coerce(sch, v)
		_, encErr := enc.Encode(v)
		if c.err != "" {
			if err == nil || !strings.HasSuffix(err.Error(), c.err) {
				t.Errorf("Coerce %s=%s: %v, want an error ending %q", c.field, c.number, err, c.err)
			}
			if encErr == nil || !strings.HasSuffix(encErr.Error(), c.err) {
				t.Errorf("Encode %s=%s: %v, want an error ending %q", c.field, c.number, encErr, c.err)
			}
			continue
		}
		if err != nil || encErr != nil {
			t.Errorf("%s=%s: Coerce %v, Encode %v", c.field, c.number, err, encErr)
			continue
		}
		if g := got.(map[string]any)[c.field]; !reflect.DeepEqual(g, c.want) {
			t.Errorf("%s=%s: got %#v (%T), want %#v (%T)", c.field, c.number, g, g, c.want, c.want)
		}
	}
}
