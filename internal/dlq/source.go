package dlq

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrSourceGone is returned when a dead letter's value was left out and its
// source record can no longer be read (retention deleted it).
var ErrSourceGone = errors.New("source record is gone")

// sourceTimeout bounds reading one source record.
const sourceTimeout = 30 * time.Second

// readSource reads the record at topic[partition]@offset, read_committed.
func readSource(ctx context.Context, clientOpts []kgo.Opt, topic string, partition int32, offset int64) (*kgo.Record, error) {
	opts := append(append([]kgo.Opt(nil), clientOpts...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().At(offset)}}),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(500*time.Millisecond),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating kafka client: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, sourceTimeout)
	defer cancel()
	where := fmt.Sprintf("%s[%d]@%d", topic, partition, offset)
	for {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("reading source record %s: %w", where, err)
		}
		if err := fetchError(fetches); err != nil {
			return nil, fmt.Errorf("reading source record %s: %w", where, err)
		}
		for _, r := range fetches.Records() {
			switch {
			case r.Offset == offset:
				return r, nil
			case r.Offset > offset:
				// Reset to the log start, past the offset: deleted.
				return nil, fmt.Errorf("%s: %w", where, ErrSourceGone)
			}
		}
	}
}
