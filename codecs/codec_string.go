package codecs

import "fmt"

// String is a goka.Codec for UTF-8 strings (keys, plain-text values). Decode of nil or an
// empty value returns "". Encode accepts string, []byte, fmt.Stringer and nil (empty).
type String struct{}

// Encode returns the bytes of v.
func (String) Encode(v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(x), nil
	case []byte:
		return x, nil
	case fmt.Stringer:
		return []byte(x.String()), nil
	}
	return nil, poison("encode", 0, fmt.Errorf("string codec: cannot encode %T", v))
}

// Decode returns data as a string.
func (String) Decode(data []byte) (any, error) { return string(data), nil }
