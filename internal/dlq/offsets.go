package dlq

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrNoTopic is returned when the dead-letter topic does not exist.
var ErrNoTopic = errors.New("topic does not exist")

// offsets maps a partition to an offset.
type offsets map[int32]int64

// newAdminClient returns a client for metadata and offset requests.
func newAdminClient(clientOpts []kgo.Opt) (*kgo.Client, error) {
	cl, err := kgo.NewClient(clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("creating kafka client: %w", err)
	}
	return cl, nil
}

// partitions returns the partitions of topic, sorted.
func partitions(ctx context.Context, cl *kgo.Client, topic string) ([]int32, error) {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("asking the brokers about topic %s: %w", topic, err)
	}
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		switch err := kerr.ErrorForCode(t.ErrorCode); {
		case errors.Is(err, kerr.UnknownTopicOrPartition):
			return nil, fmt.Errorf("%s: %w", topic, ErrNoTopic)
		case err != nil:
			return nil, fmt.Errorf("topic %s: %w", topic, err)
		}
		ps := make([]int32, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			ps = append(ps, p.Partition)
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
		return ps, nil
	}
	return nil, fmt.Errorf("%s: %w", topic, ErrNoTopic)
}

// Timestamps of ListOffsets.
const (
	listEarliest = -2
	listLatest   = -1
)

// listOffsets returns the earliest (at = listEarliest) or the last stable
// (at = listLatest, read_committed: no open transaction's record is below it)
// offset of every partition of topic.
func listOffsets(ctx context.Context, cl *kgo.Client, topic string, ps []int32, at int64) (offsets, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	req.IsolationLevel = 1 // read_committed: the latest offset is the LSO
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for _, p := range ps {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = p
		rp.CurrentLeaderEpoch = -1
		rp.Timestamp = at
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("listing offsets of %s: %w", topic, err)
	}
	out := make(offsets, len(ps))
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return nil, fmt.Errorf("listing offsets of %s[%d]: %w", topic, p.Partition, err)
			}
			out[p.Partition] = p.Offset
		}
	}
	for _, p := range ps {
		if _, ok := out[p]; !ok {
			return nil, fmt.Errorf("listing offsets of %s: no answer for partition %d", topic, p)
		}
	}
	return out, nil
}

// committedOffsets returns group's committed offsets of topic; a partition
// without a commit is absent. It waits while a transaction that commits
// offsets for the group is still open (KIP-447 RequireStable), as the
// transactional consumer itself will, and while the group coordinator is
// not ready (a fresh broker creates __consumer_offsets on first use).
func committedOffsets(ctx context.Context, cl *kgo.Client, group, topic string, ps []int32) (offsets, error) {
	for {
		out, err := fetchCommitted(ctx, cl, group, topic, ps)
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

func fetchCommitted(ctx context.Context, cl *kgo.Client, group, topic string, ps []int32) (offsets, error) {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	req.RequireStable = true
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic = topic
	rt.Partitions = ps // listed: an empty list asks for none
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("fetching offsets of group %s: %w", group, err)
	}
	out := offsets{}
	switch err := kerr.ErrorForCode(resp.ErrorCode); {
	case errors.Is(err, kerr.GroupIDNotFound):
		// kfake answers this for a group that never committed, where
		// Kafka answers offset -1: both mean "no committed offset".
		return out, nil
	case err != nil:
		return nil, fmt.Errorf("fetching offsets of group %s: %w", group, err)
	}
	for _, t := range resp.Topics {
		if t.Topic != topic {
			continue
		}
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return nil, fmt.Errorf("fetching offsets of group %s for %s[%d]: %w", group, topic, p.Partition, err)
			}
			if p.Offset >= 0 {
				out[p.Partition] = p.Offset
			}
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
	cl, err := newAdminClient(c.clientOpts)
	if err != nil {
		return span{}, err
	}
	defer cl.Close()
	ps, err := partitions(ctx, cl, topic)
	if err != nil {
		return span{}, err
	}
	if follow {
		end, err := listOffsets(ctx, cl, topic, ps, listLatest)
		if err != nil {
			return span{}, err
		}
		return span{start: end, stop: offsets{}}, nil
	}
	var committed offsets
	if group != "" {
		if committed, err = committedOffsets(ctx, cl, group, topic, ps); err != nil {
			return span{}, err
		}
	}
	return boundedSpan(ctx, cl, topic, ps, committed)
}

// boundedSpan returns the span from start (per partition: the committed
// offset when there is one, else the earliest offset) to the end offsets
// observed now.
func boundedSpan(ctx context.Context, cl *kgo.Client, topic string, ps []int32, committed offsets) (span, error) {
	earliest, err := listOffsets(ctx, cl, topic, ps, listEarliest)
	if err != nil {
		return span{}, err
	}
	end, err := listOffsets(ctx, cl, topic, ps, listLatest)
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
