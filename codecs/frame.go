package codecs

import "encoding/binary"

// Confluent wire format: byte 0 is the magic byte 0, bytes 1-4 the schema id (big-endian),
// then the Avro binary payload.
const (
	magicByte  = 0
	headerSize = 5
)

// FrameSchemaID returns the writer schema id of a Confluent wire-format frame.
// ok is true when the frame has magic byte 0 and at least 5 bytes; a 5-byte frame
// (an empty payload) is valid: it is how an empty record is written.
func FrameSchemaID(frame []byte) (id int, ok bool) {
	if len(frame) < headerSize || frame[0] != magicByte {
		return 0, false
	}
	return int(int32(binary.BigEndian.Uint32(frame[1:headerSize]))), true
}

// appendHeader appends the wire-format header for id to dst.
func appendHeader(dst []byte, id int) []byte {
	dst = append(dst, magicByte)
	return binary.BigEndian.AppendUint32(dst, uint32(int32(id)))
}
