package partition

// murmur2Hash buffers the key and hashes it on Sum32 (murmur2 is not
// incremental over Write calls).
type murmur2Hash struct{ buf []byte }

func (h *murmur2Hash) Write(p []byte) (int, error) { h.buf = append(h.buf, p...); return len(p), nil }
func (h *murmur2Hash) Sum(b []byte) []byte         { return appendSum(b, h.Sum32()) }
func (h *murmur2Hash) Reset()                      { h.buf = h.buf[:0] }
func (h *murmur2Hash) Size() int                   { return 4 }
func (h *murmur2Hash) BlockSize() int              { return 4 }
func (h *murmur2Hash) Sum32() uint32               { return Murmur2(h.buf) & 0x7fffffff }

// crc32Hash yields librdkafka's final partition, crc32(key) % n.
type crc32Hash struct {
	n   uint32
	buf []byte
}

func (h *crc32Hash) Write(p []byte) (int, error) { h.buf = append(h.buf, p...); return len(p), nil }
func (h *crc32Hash) Sum(b []byte) []byte         { return appendSum(b, h.Sum32()) }
func (h *crc32Hash) Reset()                      { h.buf = h.buf[:0] }
func (h *crc32Hash) Size() int                   { return 4 }
func (h *crc32Hash) BlockSize() int              { return 1 }
func (h *crc32Hash) Sum32() uint32               { return crc32Checksum(h.buf) % h.n }

func appendSum(b []byte, s uint32) []byte {
	return append(b, byte(s>>24), byte(s>>16), byte(s>>8), byte(s))
}
