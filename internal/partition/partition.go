// Package partition maps record keys to partitions the way the common Kafka
// clients do, so that sluice's producers, goka's emitters and table lookups,
// and other clients' producers all agree on where a key lives:
//
//   - murmur2: the Java client's default, toPositive(murmur2(key)) % n;
//   - fnv1a:   sarama's and goka's default, |int32(fnv1a32(key)) % n|;
//   - crc32:   librdkafka's consistent partitioner, crc32(key) % n (unsigned).
//
// It owns the key-to-partition functions and imports no other sluice package,
// goka or sarama.
// The rules are checked by TestImportRules (arch_test.go).
package partition

import (
	"fmt"
	"hash"
	"hash/crc32"
	"hash/fnv"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Partitioner names.
const (
	Murmur2Name = "murmur2"
	FNV1aName   = "fnv1a"
	CRC32Name   = "crc32"
)

// Valid reports whether name is a known partitioner.
func Valid(name string) bool {
	return name == Murmur2Name || name == FNV1aName || name == CRC32Name
}

func unknown(name string) error {
	return fmt.Errorf("unknown partitioner %q (want %s, %s or %s)", name, Murmur2Name, FNV1aName, CRC32Name)
}

// KeyHasher returns the key -> partition function of the named partitioner
// for franz-go producers.
func KeyHasher(name string) (kgo.PartitionerHasher, error) {
	switch name {
	case Murmur2Name, "":
		return kgo.KafkaHasher(Murmur2), nil
	case FNV1aName:
		return kgo.SaramaCompatHasher(fnv1a32), nil
	case CRC32Name:
		return func(key []byte, n int) int { return int(crc32.ChecksumIEEE(key) % uint32(n)) }, nil
	}
	return nil, unknown(name)
}

// NewPartitioner returns a franz-go partitioner that hashes keyed records
// with the named hasher and spreads unkeyed records like the Java client
// since Kafka 3.3 (KIP-794 uniform sticky).
func NewPartitioner(name string) (kgo.Partitioner, error) {
	h, err := KeyHasher(name)
	if err != nil {
		return nil, err
	}
	return kgo.UniformBytesPartitioner(64<<10, true, true, h), nil
}

// Hash32 returns the hash constructor for goka (goka.WithHasher) and sarama
// (sarama.NewCustomHashPartitioner). Both place a key on |int32(Sum32())| % n,
// so the hashes are shaped for that formula: murmur2 is masked to 31 bits
// like Java's toPositive, and crc32 — whose unsigned modulo that formula
// cannot express — yields the final partition itself, which needs the
// partition count: every topic written with it must have that many.
func Hash32(name string, partitions int) (func() hash.Hash32, error) {
	switch name {
	case Murmur2Name, "":
		return func() hash.Hash32 { return &murmur2Hash{} }, nil
	case FNV1aName:
		return fnv.New32a, nil
	case CRC32Name:
		if partitions < 1 {
			return nil, fmt.Errorf("the crc32 partitioner needs the partition count")
		}
		return func() hash.Hash32 { return &crc32Hash{n: uint32(partitions)} }, nil
	}
	return nil, unknown(name)
}

// Murmur2 is Kafka's Utils.murmur2 (seed 0x9747b28c).
func Murmur2(b []byte) uint32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	h := seed ^ uint32(len(b))
	for ; len(b) >= 4; b = b[4:] {
		k := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch len(b) {
	case 3:
		h ^= uint32(b[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(b[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(b[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

func fnv1a32(b []byte) uint32 {
	h := fnv.New32a()
	_, _ = h.Write(b) // hash.Hash never returns an error
	return h.Sum32()
}

func crc32Checksum(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
