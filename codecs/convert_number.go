package codecs

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// jsonNumber is the grammar of a JSON number (RFC 8259). strconv accepts
// more ("Inf", "0x1p4", "1_000"), so json.Number values are checked against
// it before they are converted.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// jsonInt64 returns the integer that the JSON number n spells exactly (7,
// -7, 7.0, 7e2, 70e-1), or an error: n is not a number, has a fraction, or
// is out of the range of a long. It never rounds: parsing through float64
// turned -9223372036854775809 into the minimum of a long.
func jsonInt64(n json.Number) (int64, error) {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, nil
	}
	s := string(n)
	if !jsonNumber.MatchString(s) {
		return 0, typeError("integer", n)
	}
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	mantissa, exponent, hasExp := strings.Cut(strings.ToLower(s), "e")
	whole, frac, _ := strings.Cut(mantissa, ".")
	digits := strings.TrimRight(strings.TrimLeft(whole+frac, "0"), "0")
	if digits == "" {
		return 0, nil // a zero: 0.0, -0e5
	}
	// The number is 0.digits × 10^point.
	point := len(whole) - (len(whole+frac) - len(strings.TrimLeft(whole+frac, "0")))
	if hasExp {
		exp, err := strconv.Atoi(exponent)
		switch {
		case err != nil && exponent[0] == '-', exp < -len(s):
			return 0, fmt.Errorf("%v is not an integer", n)
		case err != nil, exp > len(s)+19:
			return 0, rangeError("long", n)
		}
		point += exp
	}
	switch {
	case point < len(digits):
		return 0, fmt.Errorf("%v is not an integer", n)
	case point > 19: // more digits than any long has
		return 0, rangeError("long", n)
	}
	i, err := strconv.ParseInt(sign+digits+strings.Repeat("0", point-len(digits)), 10, 64)
	if err != nil {
		return 0, rangeError("long", n)
	}
	return i, nil
}

// jsonFloat64 returns the JSON number n as the nearest float64, or an error:
// n is not a number, or its magnitude is past the largest double.
func jsonFloat64(n json.Number) (float64, error) {
	if !jsonNumber.MatchString(string(n)) {
		return 0, typeError("number", n)
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if errors.Is(err, strconv.ErrRange) && f != 0 {
		return 0, rangeError("double", n)
	}
	return f, nil
}
