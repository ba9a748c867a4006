package dlq

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/kafkaconn"
)

// ErrNoTopic is returned when the dead-letter topic does not exist.
var ErrNoTopic = kafkaconn.ErrNoTopic

// offsets maps a partition to an offset.
type offsets map[int32]int64

// newAdminClient returns a client for metadata and offset requests.
func newAdminClient(clientOpts []kgo.Opt) (*kadm.Client, error) {
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), clientOpts...), kgo.MetadataMinAge(100*time.Millisecond))...)
	if err != nil {
		return nil, fmt.Errorf("creating kafka client: %w", err)
	}
	return kadm.NewClient(cl), nil
}

// partitions returns the partitions of topic, sorted.
func partitions(ctx context.Context, adm *kadm.Client, topic string) ([]int32, error) {
	return kafkaconn.Partitions(ctx, adm, topic)
}

// listOffsets returns the earliest (latest = false) or the last stable
// (latest, read_committed: no open transaction's record is below it)
// offset of every partition of topic.
func listOffsets(ctx context.Context, adm *kadm.Client, topic string, ps []int32, latest bool) (offsets, error) {
	list := adm.ListStartOffsets
	if latest {
		list = adm.ListCommittedOffsets
	}
	listed, err := list(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("listing offsets of %s: %w", topic, err)
	}
	out := make(offsets, len(ps))
	for _, p := range ps {
		o, ok := listed.Lookup(topic, p)
		switch {
		case !ok:
			return nil, fmt.Errorf("listing offsets of %s: no answer for partition %d", topic, p)
		case o.Err != nil:
			return nil, fmt.Errorf("listing offsets of %s[%d]: %w", topic, p, o.Err)
		}
		out[p] = o.Offset
	}
	return out, nil
}

// committedOffsets returns group's committed offsets of topic; a partition
// without a commit is absent. It waits while a transaction that commits
// offsets for the group is still open (KIP-447 RequireStable), as the
// transactional consumer itself will, and while the group coordinator is
// not ready (a fresh broker creates __consumer_offsets on first use).
func committedOffsets(ctx context.Context, adm *kadm.Client, group, topic string, ps []int32) (offsets, error) {
	for {
		out, err := fetchCommitted(ctx, adm, group, topic, ps)
		if !errors.Is(err, kerr.UnstableOffsetCommit) && !kerr.IsRetriable(err) {
			return out, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("fetching offsets of group %s: %w", group, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func fetchCommitted(ctx context.Context, adm *kadm.Client, group, topic string, ps []int32) (offsets, error) {
	resps, err := adm.FetchOffsets(kadm.RequireStable(ctx), group)
	out := offsets{}
	switch {
	case errors.Is(err, kerr.GroupIDNotFound):
		// kfake answers this for a group that never committed, where
		// Kafka answers offset -1: both mean "no committed offset".
		return out, nil
	case err != nil:
		return nil, fmt.Errorf("fetching offsets of group %s: %w", group, err)
	}
	for _, p := range ps {
		r, ok := resps.Lookup(topic, p)
		if !ok {
			continue
		}
		if r.Err != nil {
			return nil, fmt.Errorf("fetching offsets of group %s for %s[%d]: %w", group, topic, p, r.Err)
		}
		if r.At >= 0 {
			out[p] = r.At
		}
	}
	return out, nil
}

// span is the part of a topic a command reads: from start (inclusive) to
// stop (exclusive) in every partition; a partition absent from stop has no
// end (follow mode).
type span struct {
	start, stop offsets
}

// total returns how many offsets the span covers, or -1 when unbounded.
func (s span) total() int64 {
	var n int64
	for p, from := range s.start {
		to, ok := s.stop[p]
		if !ok {
			return -1
		}
		if to > from {
			n += to - from
		}
	}
	return n
}

// open lists the partitions that still have offsets to read.
func (s span) open() map[int32]bool {
	out := make(map[int32]bool, len(s.start))
	for p, from := range s.start {
		if to, ok := s.stop[p]; !ok || from < to {
			out[p] = true
		}
	}
	return out
}

// readSpan returns the span of topic a command reads: from the group's
// committed offsets (the earliest offset where there is none, or without a
// group) up to the end offsets observed now or, when following, from the end
// onwards.
func (c *config) readSpan(ctx context.Context, topic, group string, follow bool) (span, error) {
	adm, err := newAdminClient(c.clientOpts)
	if err != nil {
		return span{}, err
	}
	defer adm.Close()
	ps, err := partitions(ctx, adm, topic)
	if err != nil {
		return span{}, err
	}
	if follow {
		end, err := listOffsets(ctx, adm, topic, ps, true)
		if err != nil {
			return span{}, err
		}
		return span{start: end, stop: offsets{}}, nil
	}
	var committed offsets
	if group != "" {
		if committed, err = committedOffsets(ctx, adm, group, topic, ps); err != nil {
			return span{}, err
		}
	}
	return boundedSpan(ctx, adm, topic, ps, committed)
}

// boundedSpan returns the span from start (per partition: the committed
// offset when there is one, else the earliest offset) to the end offsets
// observed now.
func boundedSpan(ctx context.Context, adm *kadm.Client, topic string, ps []int32, committed offsets) (span, error) {
	earliest, err := listOffsets(ctx, adm, topic, ps, false)
	if err != nil {
		return span{}, err
	}
	end, err := listOffsets(ctx, adm, topic, ps, true)
	if err != nil {
		return span{}, err
	}
	start := make(offsets, len(ps))
	for _, p := range ps {
		start[p] = earliest[p]
		if c, ok := committed[p]; ok && c > start[p] {
			start[p] = c
		}
	}
	return span{start: start, stop: end}, nil
}
