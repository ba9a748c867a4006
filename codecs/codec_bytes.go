package codecs

import "fmt"

// Bytes is a goka.Codec passing []byte through unchanged. Decode returns the very slice it
// was given (nil stays nil); Encode accepts []byte, string or nil.
type Bytes struct{}

// Encode returns v as bytes.
func (Bytes) Encode(v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	}
	return nil, poison("encode", 0, fmt.Errorf("bytes codec: cannot encode %T", v))
}

// Decode returns data itself.
func (Bytes) Decode(data []byte) (any, error) { return data, nil }
