package pipeline

import (
	"fmt"
	"hash"
	"hash/crc32"
	"hash/fnv"
)

// Hasher returns the hash constructor goka uses to place keys: for emits and
// table writes (through sarama's custom hash partitioner, which takes
// |int32(Sum32())| % n) and for lookups and state queries (the same formula).
// The returned hashes are shaped so that formula reproduces the named
// client's partitioner exactly:
//
//   - murmur2: Java's default, toPositive(murmur2(key)) % n;
//   - fnv1a:   sarama's and goka's default;
//   - crc32:   librdkafka's consistent partitioner, crc32(key) % n taken as
//     unsigned, which needs the partition count: every topic a pipeline
//     writes must then have `partitions` partitions (sluice creates its
//     outputs that way).
func Hasher(name string, partitions int) (func() hash.Hash32, error) {
	switch name {
	case PartitionerMurmur2, "":
		return func() hash.Hash32 { return &murmur2Hash{} }, nil
	case PartitionerFNV1a:
		return fnv.New32a, nil
	case PartitionerCRC32:
		if partitions < 1 {
			return nil, fmt.Errorf("crc32 partitioner needs a partition count")
		}
		return func() hash.Hash32 { return &crc32Hash{n: uint32(partitions)} }, nil
	}
	return nil, fmt.Errorf("unknown partitioner %q", name)
}

// murmur2Hash is Kafka's Java murmur2 (Utils.murmur2) masked to a positive
// int32, as Utils.toPositive does.
type murmur2Hash struct{ buf []byte }

func (h *murmur2Hash) Write(p []byte) (int, error) { h.buf = append(h.buf, p...); return len(p), nil }
func (h *murmur2Hash) Sum(b []byte) []byte {
	s := h.Sum32()
	return append(b, byte(s>>24), byte(s>>16), byte(s>>8), byte(s))
}
func (h *murmur2Hash) Reset()         { h.buf = h.buf[:0] }
func (h *murmur2Hash) Size() int      { return 4 }
func (h *murmur2Hash) BlockSize() int { return 4 }
func (h *murmur2Hash) Sum32() uint32  { return uint32(Murmur2(h.buf)) & 0x7fffffff }

// Murmur2 is Kafka's Utils.murmur2 (seed 0x9747b28c) as a signed int32.
func Murmur2(data []byte) int32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	length := len(data)
	h := seed ^ uint32(length)
	n := length / 4
	for i := 0; i < n; i++ {
		j := i * 4
		k := uint32(data[j]) | uint32(data[j+1])<<8 | uint32(data[j+2])<<16 | uint32(data[j+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := data[n*4:]
	switch len(tail) {
	case 3:
		h ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(tail[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}

// crc32Hash yields the final partition of librdkafka's consistent
// partitioner, so that |int32(Sum32())| % n is that partition.
type crc32Hash struct {
	n   uint32
	crc uint32
}

func (h *crc32Hash) Write(p []byte) (int, error) {
	h.crc = crc32.Update(h.crc, crc32.IEEETable, p)
	return len(p), nil
}
func (h *crc32Hash) Sum(b []byte) []byte {
	s := h.Sum32()
	return append(b, byte(s>>24), byte(s>>16), byte(s>>8), byte(s))
}
func (h *crc32Hash) Reset()         { h.crc = 0 }
func (h *crc32Hash) Size() int      { return 4 }
func (h *crc32Hash) BlockSize() int { return 1 }
func (h *crc32Hash) Sum32() uint32  { return h.crc % h.n }
