package dlq

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/time/rate"
)

// replayer runs one transactional replay.
type replayer struct {
	c       *config
	topic   string
	group   string
	span    span
	open    map[int32]bool // partitions not yet at their stop offset
	pos     offsets        // committed position per partition
	limiter *rate.Limiter
	sess    *kgo.GroupTransactSession
	stats   ReplayStats
}

// batch is the work of one transaction.
type batch struct {
	stats  ReplayStats
	pos    offsets                              // position after the batch per partition
	closed []int32                              // partitions that reached their stop offset
	rewind map[string]map[int32]kgo.EpochOffset // partitions polled past their stop offset
}

// maxBatch bounds the records of one transaction when the rate is unlimited.
const maxBatch = 1000

func (r *replayer) run(ctx context.Context) (ReplayStats, error) {
	r.report()
	if len(r.open) == 0 {
		return r.stats, nil
	}
	limits, err := newBatchLimits(r.c.clientOpts)
	if err != nil {
		return r.stats, err
	}
	defer limits.close()
	opts := append(append([]kgo.Opt(nil), r.c.clientOpts...),
		kgo.ProducerBatchMaxBytesFn(limits.of),
		kgo.ConsumerGroup(r.group),
		kgo.ConsumeTopics(r.topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.TransactionalID(r.group),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(), // see every offset, so the stop offset is always reached
		kgo.FetchMaxWait(500*time.Millisecond),
		kgo.RecordPartitioner(sourcePartitioner{}),
		// A killed replay stays a group member until its session times
		// out, and the next replay's join waits for that: keep it short
		// (Kafka's group.min.session.timeout.ms is 6s).
		kgo.SessionTimeout(10*time.Second),
	)
	sess, err := kgo.NewGroupTransactSession(opts...)
	if err != nil {
		return r.stats, fmt.Errorf("creating transactional kafka client: %w", err)
	}
	r.sess = sess
	defer sess.Close()
	var done []int32
	for p := range r.span.start {
		if !r.open[p] {
			done = append(done, p)
		}
	}
	r.pause(done)

	limit := maxBatch
	if r.c.rate > 0 {
		limit = max(1, min(maxBatch, int(r.c.rate))) // about a second of work per transaction
	}
	for len(r.open) > 0 {
		fetches := sess.PollRecords(ctx, limit)
		if err := ctx.Err(); err != nil {
			return r.stats, fmt.Errorf("%w: %w", ErrInterrupted, err)
		}
		if err := fetchError(fetches); err != nil {
			return r.stats, err
		}
		if fetches.NumRecords() == 0 {
			continue
		}
		if err := r.transact(ctx, fetches); err != nil {
			return r.stats, err
		}
	}
	return r.stats, nil
}

// newLimiter returns the limiter of WithRate: perSecond records a second,
// evenly spaced (no burst, not even after a pause), or no limit for 0.
func newLimiter(perSecond float64) *rate.Limiter {
	if perSecond <= 0 {
		return rate.NewLimiter(rate.Inf, 0)
	}
	return rate.NewLimiter(rate.Limit(perSecond), 1)
}

// fetchError returns the first error of a poll other than the end of ctx.
func fetchError(fetches kgo.Fetches) error {
	var first error
	fetches.EachError(func(t string, p int32, err error) {
		if first == nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			first = fmt.Errorf("consuming %s[%d]: %w", t, p, err)
		}
	})
	return first
}

// transact replays one poll's records in one transaction together with the
// group's offsets.
func (r *replayer) transact(ctx context.Context, fetches kgo.Fetches) error {
	if err := r.sess.Begin(); err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	promise := kgo.AbortingFirstErrPromise(r.sess.Client())
	b := batch{pos: offsets{}, rewind: map[string]map[int32]kgo.EpochOffset{}}
	var procErr error
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if procErr == nil {
			procErr = r.partition(ctx, fp, &b, promise)
		}
	})
	if len(b.rewind) > 0 {
		// Those offsets were polled but are not ours to handle: commit
		// the stop offset, not what the poll consumed.
		r.sess.Client().SetOffsets(b.rewind)
	}
	r.pause(b.closed)
	commit := procErr == nil && ctx.Err() == nil
	pubErr := promise.Err() // waits for every produced record
	if pubErr != nil {
		commit = false
	}
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), endTimeout)
	defer cancel()
	committed, endErr := r.sess.End(endCtx, kgo.TransactionEndTry(commit))
	if committed {
		r.stats.add(b.stats)
		for p, o := range b.pos {
			r.pos[p] = o
		}
		r.report()
		return nil
	}
	// Aborted: the session rewound to the committed offsets, so the
	// partitions this batch finished are not finished.
	for _, p := range b.closed {
		r.open[p] = true
	}
	if len(b.closed) > 0 {
		r.sess.Client().ResumeFetchPartitions(map[string][]int32{r.topic: b.closed})
	}
	switch {
	case procErr != nil && ctx.Err() != nil:
		return fmt.Errorf("%w: %w", ErrInterrupted, ctx.Err())
	case procErr != nil:
		return procErr
	case pubErr != nil && ctx.Err() != nil:
		return fmt.Errorf("%w: %w", ErrInterrupted, ctx.Err())
	case pubErr != nil:
		return fmt.Errorf("publishing replayed records: %w", pubErr)
	case endErr != nil:
		return fmt.Errorf("ending transaction: %w", endErr)
	case ctx.Err() != nil:
		return fmt.Errorf("%w: %w", ErrInterrupted, ctx.Err())
	}
	return nil // aborted because the group rebalanced: the records come again
}

// partition replays the records one poll returned for a partition.
func (r *replayer) partition(ctx context.Context, fp kgo.FetchTopicPartition, b *batch, promise *kgo.FirstErrPromise) error {
	p := fp.Partition
	stop := r.span.stop[p]
	if n := len(fp.Records); n > 0 && fp.Records[n-1].Offset >= stop {
		if b.rewind[r.topic] == nil {
			b.rewind[r.topic] = map[int32]kgo.EpochOffset{}
		}
		b.rewind[r.topic][p] = kgo.EpochOffset{Epoch: -1, Offset: stop}
	}
	for _, rec := range fp.Records {
		if !r.open[p] {
			break
		}
		if rec.Offset >= stop { // what was left below stop was aborted
			r.finish(p, b)
			break
		}
		if !rec.Attrs.IsControl() {
			if err := r.record(ctx, rec, b, promise); err != nil {
				return err
			}
		}
		b.pos[p] = rec.Offset + 1
		if rec.Offset+1 >= stop {
			r.finish(p, b)
		}
	}
	return nil
}

// finish marks partition p as caught up in batch b.
func (r *replayer) finish(p int32, b *batch) {
	delete(r.open, p)
	b.closed = append(b.closed, p)
	b.pos[p] = r.span.stop[p]
}

// record publishes the replay of one dead letter (or skips it).
func (r *replayer) record(ctx context.Context, rec *kgo.Record, b *batch, promise *kgo.FirstErrPromise) error {
	l := Parse(rec)
	out, v, err := r.c.plan(ctx, &l)
	if err != nil {
		return err
	}
	switch v {
	case skip:
		b.stats.Skipped++
		return nil
	case refuse:
		b.stats.Refused++
		return nil
	}
	// Wait fails when ctx is done or its deadline comes before the turn.
	if err := r.limiter.Wait(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrInterrupted, err)
	}
	r.sess.Produce(ctx, out, promise.Promise())
	b.stats.add(ReplayStats{Replayed: 1, Topics: map[string]int{out.Topic: 1}})
	return nil
}

func (r *replayer) pause(ps []int32) {
	if len(ps) > 0 {
		r.sess.Client().PauseFetchPartitions(map[string][]int32{r.topic: ps})
	}
}

// report passes the progress to the WithProgress callback.
func (r *replayer) report() {
	if r.c.progress == nil {
		return
	}
	var done int64
	for p, o := range r.pos {
		if d := o - r.span.start[p]; d > 0 {
			done += d
		}
	}
	r.c.progress(Progress{Done: done, Total: r.span.total(),
		Replayed: r.stats.Replayed, Skipped: r.stats.Skipped, Refused: r.stats.Refused})
}
