package cli

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/fnv"
	"strings"
	"time"

	"github.com/riferrei/srclient"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Defaults of the connection flags shared by produce and consume; the
// environment variables win over them.
const (
	envBrokers      = "SLUICE_BROKERS"
	envRegistryURL  = "SLUICE_REGISTRY_URL"
	defaultBrokers  = "127.0.0.1:9092"
	defaultRegistry = "http://127.0.0.1:8081"
)

// Partitioner names accepted by --partitioner.
const (
	// PartitionerMurmur2 places keyed records like the Java client:
	// toPositive(murmur2(key)) % n. Unkeyed records are spread uniformly.
	PartitionerMurmur2 = "murmur2"
	// PartitionerFNV1a places keyed records like sarama's and goka's default
	// hash partitioner: |int32(fnv1a32(key)) % n|.
	PartitionerFNV1a = "fnv1a"
	// PartitionerCRC32 places keyed records like librdkafka's "consistent"
	// partitioner: crc32(key) % n (unsigned).
	PartitionerCRC32 = "crc32"
)

// KeyHasher returns the key -> partition function of the named partitioner.
// It is the single place that maps a partitioner name to placement, so any
// component (CLI producer, pipeline emitters) agrees with it.
func KeyHasher(name string) (kgo.PartitionerHasher, error) {
	switch name {
	case PartitionerMurmur2, "":
		return kgo.KafkaHasher(Murmur2), nil
	case PartitionerFNV1a:
		return kgo.SaramaCompatHasher(fnv1a32), nil
	case PartitionerCRC32:
		return crc32Hasher, nil
	default:
		return nil, fmt.Errorf("unknown partitioner %q (want %s, %s or %s)",
			name, PartitionerMurmur2, PartitionerFNV1a, PartitionerCRC32)
	}
}

// NewPartitioner returns a kgo partitioner that hashes keyed records with the
// named hasher and spreads unkeyed records like the Java client since Kafka
// 3.3 (KIP-794 uniform sticky), which is also kgo's default behaviour.
func NewPartitioner(name string) (kgo.Partitioner, error) {
	h, err := KeyHasher(name)
	if err != nil {
		return nil, err
	}
	return kgo.UniformBytesPartitioner(64<<10, true, true, h), nil
}

// KeyHash32 returns a hash.Hash32 constructor for goka (goka.WithHasher,
// WithViewHasher) and sarama (sarama.NewCustomHashPartitioner) that makes
// them place keys exactly as KeyHasher(name) does. Both compute
// |int32(Sum32) % n|, so murmur2's Sum32 is masked to 31 bits like Java's
// toPositive. crc32 (librdkafka's unsigned modulo) cannot be expressed that
// way and is refused.
func KeyHash32(name string) (func() hash.Hash32, error) {
	switch name {
	case PartitionerMurmur2, "":
		return func() hash.Hash32 { return &murmur2Hash{} }, nil
	case PartitionerFNV1a:
		return fnv.New32a, nil
	case PartitionerCRC32:
		return nil, fmt.Errorf("partitioner %s has no goka/sarama hasher (it needs an unsigned modulo)", name)
	default:
		_, err := KeyHasher(name)
		return nil, err
	}
}

// murmur2Hash buffers the key and hashes it on Sum32 (murmur2 is not
// incremental over Write calls).
type murmur2Hash struct{ buf []byte }

func (h *murmur2Hash) Write(p []byte) (int, error) { h.buf = append(h.buf, p...); return len(p), nil }
func (h *murmur2Hash) Sum(b []byte) []byte {
	s := h.Sum32()
	return append(b, byte(s>>24), byte(s>>16), byte(s>>8), byte(s))
}
func (h *murmur2Hash) Reset()         { h.buf = h.buf[:0] }
func (h *murmur2Hash) Size() int      { return 4 }
func (h *murmur2Hash) BlockSize() int { return 4 }
func (h *murmur2Hash) Sum32() uint32  { return Murmur2(h.buf) & 0x7fffffff }

// Murmur2 is Kafka's Utils.murmur2 (seed 0x9747b28c), as the Java client
// uses it to place keyed records.
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

// crc32Hasher is librdkafka's consistent placement: an unsigned modulo of
// the IEEE CRC-32, independent of the platform's int width.
func crc32Hasher(key []byte, n int) int {
	return int(crc32.ChecksumIEEE(key) % uint32(n))
}

func fnv1a32(b []byte) uint32 {
	h := fnv.New32a()
	_, _ = h.Write(b) // hash.Hash never returns an error
	return h.Sum32()
}

// connFlags are the connection flags of the commands that talk to Kafka and
// the schema registry directly.
type connFlags struct {
	brokers  string
	registry string
}

// addConnFlags registers --brokers and --registry. Their defaults come from
// the environment when the command runs (see resolveConn).
func (a *app) addConnFlags(cmd *cobra.Command, f *connFlags) {
	cmd.Flags().StringVar(&f.brokers, "brokers", "",
		"comma-separated Kafka bootstrap brokers (default $"+envBrokers+", then "+defaultBrokers+")")
	cmd.Flags().StringVar(&f.registry, "registry", "",
		"schema registry URL (default $"+envRegistryURL+", then "+defaultRegistry+")")
}

// resolveConn fills in the connection flags that were not given.
func (a *app) resolveConn(f *connFlags) {
	if strings.TrimSpace(f.brokers) == "" {
		f.brokers = a.envOr(envBrokers, defaultBrokers)
	}
	if strings.TrimSpace(f.registry) == "" {
		f.registry = a.envOr(envRegistryURL, defaultRegistry)
	}
}

// seedBrokers splits the --brokers list.
func (f *connFlags) seedBrokers() ([]string, error) {
	var seeds []string
	for _, s := range strings.Split(f.brokers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			seeds = append(seeds, s)
		}
	}
	if len(seeds) == 0 {
		return nil, usagef("--brokers: no broker address in %q", f.brokers)
	}
	return seeds, nil
}

// newKafkaClient builds a franz-go client on the --brokers list.
func (f *connFlags) newKafkaClient(opts ...kgo.Opt) (*kgo.Client, error) {
	seeds, err := f.seedBrokers()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seeds...)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("creating kafka client: %w", err)
	}
	return cl, nil
}

// newRegistryClient returns a schema registry client for --registry. It does
// no I/O until a schema is needed.
func (f *connFlags) newRegistryClient() (srclient.ISchemaRegistryClient, error) {
	if strings.TrimSpace(f.registry) == "" {
		return nil, usagef("--registry: empty URL")
	}
	return srclient.NewSchemaRegistryClient(strings.TrimRight(f.registry, "/")), nil
}

// metadataTimeout bounds the first metadata request, which is where an
// unreachable broker shows up.
const metadataTimeout = 15 * time.Second

// topicExists asks the cluster about topic, letting the broker auto-create
// it when autoCreate is set (and the broker allows it). It fails when the
// brokers cannot be reached, so that the commands do not wait silently.
func topicExists(ctx context.Context, cl *kgo.Client, topic string, autoCreate bool) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, metadataTimeout)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = autoCreate
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return false, fmt.Errorf("asking the brokers about topic %s: %w", topic, err)
	}
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		switch err := kerr.ErrorForCode(t.ErrorCode); {
		case err == nil, errors.Is(err, kerr.LeaderNotAvailable): // being created
			return true, nil
		case errors.Is(err, kerr.UnknownTopicOrPartition):
			return false, nil
		default:
			return false, fmt.Errorf("topic %s: %w", topic, err)
		}
	}
	return false, nil
}
