package dlq

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// errStop ends reading early without an error.
var errStop = errors.New("stop reading")

// reader reads a span of one topic directly (no group), read_committed.
// Control records are kept so that it sees every offset and knows when a
// partition has reached its stop offset even when the log ends with a
// transaction marker.
type reader struct {
	cl    *kgo.Client
	topic string
	span  span
	open  map[int32]bool
	idle  time.Duration
}

func newReader(topic string, sp span, idle time.Duration, clientOpts []kgo.Opt) (*reader, error) {
	starts := make(map[int32]kgo.Offset, len(sp.start))
	for p, o := range sp.start {
		starts[p] = kgo.NewOffset().At(o)
	}
	opts := append(append([]kgo.Opt(nil), clientOpts...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: starts}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(500*time.Millisecond),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating kafka client: %w", err)
	}
	return &reader{cl: cl, topic: topic, span: sp, open: sp.open(), idle: idle}, nil
}

func (r *reader) close() { r.cl.Close() }

// each calls fn for every data record of the span in offset order per
// partition. It returns nil when every partition reached its stop offset,
// when fn returns errStop or when the idle timeout passes without a record,
// and ctx.Err() when ctx is done.
func (r *reader) each(ctx context.Context, fn func(*kgo.Record) error) error {
	for len(r.open) > 0 {
		pctx, cancel := ctx, context.CancelFunc(func() {})
		if r.idle > 0 {
			pctx, cancel = context.WithTimeout(ctx, r.idle)
		}
		fetches := r.cl.PollFetches(pctx)
		cancel()
		if err := ctx.Err(); err != nil {
			return err
		}
		var fetchErr error
		fetches.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && fetchErr == nil {
				fetchErr = err
			}
		})
		if fetchErr != nil {
			return fetchErr
		}
		if fetches.NumRecords() == 0 && r.idle > 0 {
			return nil // idle timeout
		}
		var err error
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			for _, rec := range fp.Records {
				if err != nil || !r.open[rec.Partition] {
					return
				}
				stop, bounded := r.span.stop[rec.Partition]
				if bounded && rec.Offset >= stop {
					r.done(rec.Partition)
					return
				}
				if !rec.Attrs.IsControl() {
					err = fn(rec)
				}
				if bounded && rec.Offset+1 >= stop {
					r.done(rec.Partition)
				}
			}
		})
		if errors.Is(err, errStop) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// done stops fetching partition p.
func (r *reader) done(p int32) {
	delete(r.open, p)
	r.cl.PauseFetchPartitions(map[string][]int32{r.topic: {p}})
}
