package codecs

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// maxMessageIndexes bounds the message-index array of a Protobuf frame: a
// corrupt frame must not make the decoder allocate for a huge count.
const maxMessageIndexes = 64

// appendMessageIndexes appends the Confluent Protobuf message-index array:
// the count then each index, as zigzag varints; the common [0] (the file's
// first message) is the single byte 0.
func appendMessageIndexes(dst []byte, index []int) []byte {
	if len(index) == 1 && index[0] == 0 {
		return append(dst, 0)
	}
	dst = binary.AppendVarint(dst, int64(len(index)))
	for _, i := range index {
		dst = binary.AppendVarint(dst, int64(i))
	}
	return dst
}

// readMessageIndexes reads the message-index array at the start of b and
// returns it with the number of bytes it took.
func readMessageIndexes(b []byte) ([]int, int, error) {
	count, n := binary.Varint(b)
	if n <= 0 {
		return nil, 0, errors.New("truncated message-index array")
	}
	switch {
	case count == 0:
		return []int{0}, n, nil
	case count < 0 || count > maxMessageIndexes:
		return nil, 0, fmt.Errorf("message-index array of %d entries", count)
	}
	index := make([]int, count)
	off := n
	for i := range index {
		v, m := binary.Varint(b[off:])
		if m <= 0 {
			return nil, 0, errors.New("truncated message-index array")
		}
		if v < 0 || v > 1<<20 {
			return nil, 0, fmt.Errorf("message index %d", v)
		}
		index[i] = int(v)
		off += m
	}
	return index, off, nil
}
