package dlq

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/kafkaconn"
)

// defaultBatchBytes is franz-go's default cap of a record batch, used when
// a topic's max.message.bytes cannot be read.
const defaultBatchBytes = 1000012

// batchLimits gives the replay producer each target topic's
// max.message.bytes as its batch cap, so that a record as large as its topic
// allows (an oversize letter replayed from its source) can be published,
// and no batch exceeds what its topic accepts.
type batchLimits struct {
	admin *kadm.Client

	mu     sync.Mutex
	topics map[string]int32
}

func newBatchLimits(clientOpts []kgo.Opt) (*batchLimits, error) {
	admin, err := newAdminClient(clientOpts)
	if err != nil {
		return nil, err
	}
	return &batchLimits{admin: admin, topics: map[string]int32{}}, nil
}

func (b *batchLimits) close() { b.admin.Close() }

// of returns topic's max.message.bytes (franz-go asks once per partition it
// discovers); the default when it cannot be read.
func (b *batchLimits) of(topic string) int32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n, ok := b.topics[topic]; ok {
		return n
	}
	n := int32(defaultBatchBytes)
	if topic != "" {
		if m, ok := b.describe(topic); ok {
			n = m
		}
		b.topics[topic] = n
	}
	return n
}

func (b *batchLimits) describe(topic string) (int32, bool) {
	const key = "max.message.bytes"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	configs, err := kafkaconn.TopicConfigs(ctx, b.admin, []string{key}, topic)
	if err != nil {
		return 0, false
	}
	v, ok := configs[topic][key]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 512 || n > 1<<30 {
		return 0, false
	}
	return int32(n), true
}
