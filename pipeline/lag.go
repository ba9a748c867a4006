package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/kafkaconn"
)

// PartitionLag is the lag of one partition of a pipeline's input.
type PartitionLag struct {
	Partition int32 `json:"partition"`
	// Committed is the group's committed offset, -1 when it has none yet.
	Committed int64 `json:"committed"`
	// End is the partition's end offset (high-water mark).
	End int64 `json:"end"`
	// Lag is End minus Committed; without a commit, End minus the
	// partition's start offset (a new group starts from the earliest).
	Lag int64 `json:"lag"`
	// Seconds is the age of the oldest record the group has not processed:
	// now minus the timestamp of the record at the committed offset (the
	// next one to process), 0 when the partition is caught up (Lag 0) or
	// that record could not be read in time.
	Seconds float64 `json:"lag_seconds"`
}

// lagTimeout bounds one reading of the lag of every pipeline.
const lagTimeout = 5 * time.Second

// lagReader reads lag the way kafka-consumer-groups does: the group's
// committed offsets against the partitions' end offsets, for every
// partition of the input whoever owns it, and whatever the processor does
// (held, restarting, not started yet).
type lagReader struct {
	cl  *kgo.Client
	adm *kadm.Client
}

func newLagReader(conn kafkaconn.Config) (*lagReader, error) {
	// The client consumes directly (no group), the partitions peek adds
	// for as long as it reads one record of each; small fetches suffice.
	cl, err := conn.NewClient(kgo.FetchMaxBytes(1<<20), kgo.FetchMaxPartitionBytes(64<<10), kgo.FetchMaxWait(250*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("creating the Kafka client that reads lag: %w", err)
	}
	return &lagReader{cl: cl, adm: kadm.NewClient(cl)}, nil
}

func (l *lagReader) close() { l.cl.Close() }

// lag returns the lag of every partition of topic for group, by partition.
func (l *lagReader) lag(ctx context.Context, group, topic string) ([]PartitionLag, error) {
	ends, err := l.adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	starts, err := l.adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("start offsets of %s: %w", topic, err)
	}
	committed, err := l.adm.FetchOffsetsForTopics(ctx, group, topic)
	if err == nil {
		err = committed.Error()
	}
	switch {
	case errors.Is(err, kerr.GroupIDNotFound):
		// A group that never committed (kfake says so; Kafka answers -1).
		committed = nil
	case err != nil:
		return nil, fmt.Errorf("committed offsets of group %s: %w", group, err)
	}
	var out []PartitionLag
	ends.Each(func(end kadm.ListedOffset) {
		pl := PartitionLag{Partition: end.Partition, Committed: -1, End: end.Offset}
		from := int64(0)
		if s, ok := starts.Lookup(topic, end.Partition); ok {
			from = s.Offset
		}
		if c, ok := committed.Lookup(topic, end.Partition); ok && c.At >= 0 {
			pl.Committed, from = c.At, c.At
		}
		pl.Lag = max(end.Offset-from, 0)
		out = append(out, pl)
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Partition < out[j].Partition })
	next := map[int32]int64{}
	for _, pl := range out {
		if pl.Lag > 0 {
			next[pl.Partition] = pl.End - pl.Lag
		}
	}
	if len(next) > 0 {
		pctx, cancel := context.WithTimeout(ctx, peekTimeout)
		stamps := l.peek(pctx, topic, next)
		cancel()
		now := time.Now()
		for i, pl := range out {
			if ts, ok := stamps[pl.Partition]; ok {
				out[i].Seconds = max(now.Sub(ts).Seconds(), 0)
			}
		}
	}
	return out, nil
}

// peekTimeout bounds reading the next records of one topic's lagging
// partitions. A partition whose next offsets hold only transaction markers
// has no record to read and waits this long.
const peekTimeout = 2 * time.Second

// peek returns the timestamps of the first record at or after each
// partition's offset in next, for the partitions it could read before ctx
// ended.
func (l *lagReader) peek(ctx context.Context, topic string, next map[int32]int64) map[int32]time.Time {
	offsets := make(map[int32]kgo.Offset, len(next))
	parts := make([]int32, 0, len(next))
	for p, o := range next {
		offsets[p] = kgo.NewOffset().At(o)
		parts = append(parts, p)
	}
	l.cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets})
	defer l.cl.RemoveConsumePartitions(map[string][]int32{topic: parts})
	got := make(map[int32]time.Time, len(next))
	for len(got) < len(next) && ctx.Err() == nil {
		fs := l.cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			if _, seen := got[r.Partition]; !seen && r.Topic == topic && r.Offset >= next[r.Partition] {
				got[r.Partition] = r.Timestamp
			}
		})
	}
	return got
}

// refreshLag reads the lag of every pipeline. A pipeline whose lag cannot be
// read keeps the last lag read, with the error beside it.
func (sv *Supervisor) refreshLag(ctx context.Context, lags *lagReader) {
	ctx, cancel := context.WithTimeout(ctx, lagTimeout)
	defer cancel()
	for _, run := range sv.runs {
		lag, err := lags.lag(ctx, run.p.Group, run.p.Input.Topic)
		run.mu.Lock()
		if err == nil {
			run.lag = lag
		}
		run.lagErr = err
		run.mu.Unlock()
	}
}
