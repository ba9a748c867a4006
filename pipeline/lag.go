package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

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
}

// lagTimeout bounds one reading of the lag of every pipeline.
const lagTimeout = 5 * time.Second

// lagReader reads lag the way kafka-consumer-groups does: the group's
// committed offsets against the partitions' end offsets, for every
// partition of the input whoever owns it, and whatever the processor does
// (held, restarting, not started yet).
type lagReader struct {
	adm *kadm.Client
}

func newLagReader(conn kafkaconn.Config) (*lagReader, error) {
	adm, err := conn.NewAdmin()
	if err != nil {
		return nil, fmt.Errorf("creating the Kafka client that reads lag: %w", err)
	}
	return &lagReader{adm: adm}, nil
}

func (l *lagReader) close() { l.adm.Close() }

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
	return out, nil
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
