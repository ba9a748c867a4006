package pipeline

import (
	"hash"

	"github.com/sluicehq/sluice/internal/partition"
)

// Hasher returns the hash constructor goka uses to place keys — for emits and
// table writes (through sarama's custom hash partitioner) and for lookups and
// state queries — so that they land where the configured client's producer
// puts them (see package partition). partitions is the pipeline's input
// partition count, which the crc32 partitioner needs.
func Hasher(name string, partitions int) (func() hash.Hash32, error) {
	return partition.Hash32(name, partitions)
}
