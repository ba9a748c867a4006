package codecs

import (
	"math/big"
	"time"

	"github.com/hamba/avro/v2"
)

// ToJSON converts a canonical value into one encoding/json renders the way sluice shows
// values (HTTP state endpoint, JSON outputs, `sluice consume`):
//
//   - time.Time -> Unix milliseconds (int64), whatever the logical type: timestamp-micros
//     values lose their sub-millisecond part, a date becomes its midnight UTC in ms;
//   - time.Duration (time-millis, time-micros) -> milliseconds (int64);
//   - []byte (bytes, fixed) -> string of the same bytes;
//   - *big.Rat (decimal) -> decimal string, exact ("12.30" style with the digits the value
//     needs; a non-terminating fraction is cut at 20 digits);
//   - avro.LogicalDuration -> {"months","days","milliseconds"};
//   - maps and slices are converted recursively into new ones; other values are returned
//     unchanged.
func ToJSON(v any) any {
	switch x := v.(type) {
	case nil, string, bool, int32, int64, float64, float32, int:
		return v
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = ToJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = ToJSON(e)
		}
		return out
	case time.Time:
		return x.UnixMilli()
	case time.Duration:
		return x.Milliseconds()
	case []byte:
		return string(x)
	case *big.Rat:
		if x == nil {
			return nil
		}
		return ratString(x)
	case avro.LogicalDuration:
		return map[string]any{"months": x.Months, "days": x.Days, "milliseconds": x.Milliseconds}
	}
	return v
}

// ratString renders r in decimal with exactly the fractional digits it needs (at most 20).
func ratString(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	// digits needed = max(power of 2, power of 5) in the denominator, if it has no other factor
	d := new(big.Int).Set(r.Denom())
	two, five := big.NewInt(2), big.NewInt(5)
	var n2, n5 int
	m := new(big.Int)
	for {
		q, rem := new(big.Int).QuoRem(d, two, m)
		if rem.Sign() != 0 {
			break
		}
		d, n2 = q, n2+1
	}
	for {
		q, rem := new(big.Int).QuoRem(d, five, m)
		if rem.Sign() != 0 {
			break
		}
		d, n5 = q, n5+1
	}
	digits := max(n2, n5)
	if d.Cmp(big.NewInt(1)) != 0 || digits > 20 {
		digits = 20
	}
	return r.FloatString(digits)
}
