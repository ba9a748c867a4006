package dlq

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// defaultBatchBytes is franz-go's default cap of a record batch, used when
// a topic's max.message.bytes cannot be read.
const defaultBatchBytes = 1000012

// batchLimits gives the replay producer each target topic's
// max.message.bytes as its batch cap, so that a record as large as its topic
// allows (an oversize letter replayed from its source) can be published,
// and no batch exceeds what its topic accepts.
type batchLimits struct {
	admin *kgo.Client

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
	req := kmsg.NewPtrDescribeConfigsRequest()
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType, res.ResourceName, res.ConfigNames = kmsg.ConfigResourceTypeTopic, topic, []string{key}
	req.Resources = append(req.Resources, res)
	resp, err := req.RequestWith(ctx, b.admin)
	if err != nil || len(resp.Resources) != 1 || kerr.ErrorForCode(resp.Resources[0].ErrorCode) != nil {
		return 0, false
	}
	for _, c := range resp.Resources[0].Configs {
		if c.Name != key || c.Value == nil {
			continue
		}
		n, err := strconv.ParseInt(*c.Value, 10, 32)
		if err != nil || n < 512 || n > 1<<30 {
			return 0, false
		}
		return int32(n), true
	}
	return 0, false
}
