package testkit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Timestamps of a ListOffsets request.
const (
	atEnd   = -1
	atStart = -2
)

// GroupLag returns how many records of topic the consumer group has not
// committed yet (end offsets minus committed offsets, over all partitions).
func GroupLag(ctx context.Context, brokers []string, group, topic string) (int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	n, err := partitions(ctx, cl, topic)
	if err != nil {
		return 0, err
	}
	end, err := offsetsAt(ctx, cl, topic, n, atEnd)
	if err != nil {
		return 0, err
	}

	of := kmsg.NewPtrOffsetFetchRequest()
	of.Group = group
	ot := kmsg.NewOffsetFetchRequestTopic()
	ot.Topic = topic
	for p := range n {
		ot.Partitions = append(ot.Partitions, int32(p))
	}
	of.Topics = append(of.Topics, ot)
	oresp, err := of.RequestWith(ctx, cl)
	if err != nil {
		return 0, fmt.Errorf("committed offsets of %s: %w", group, err)
	}
	if err := kerr.ErrorForCode(oresp.ErrorCode); err != nil {
		return 0, fmt.Errorf("committed offsets of %s: %w", group, err)
	}
	var lag int64
	committed := map[int32]int64{}
	for _, t := range oresp.Topics {
		for _, p := range t.Partitions {
			committed[p.Partition] = p.Offset
		}
	}
	for p, e := range end {
		c := committed[p]
		if c < 0 {
			c = 0
		}
		lag += e - c
	}
	return lag, nil
}

// WaitLagZero waits until group has committed every record of topic; on
// timeout it fails naming the lag (or the error reading it) last seen.
func WaitLagZero(t testing.TB, brokers []string, group, topic string, timeout time.Duration) {
	t.Helper()
	EventuallyValue(t, timeout, "group "+group+" to commit all of "+topic+" (lag 0)", func() (string, bool) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		lag, err := GroupLag(ctx, brokers, group, topic)
		if err != nil {
			return "no lag: " + err.Error(), false
		}
		return fmt.Sprintf("lag %d", lag), lag == 0
	})
}

// TopicSize is the sum over topic's partitions of end minus start offsets.
func TopicSize(t testing.TB, brokers []string, topic string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := Client(t, brokers)
	n, err := partitions(ctx, cl, topic)
	if err != nil {
		t.Fatal(err)
	}
	end, err := offsetsAt(ctx, cl, topic, n, atEnd)
	if err != nil {
		t.Fatal(err)
	}
	start, err := offsetsAt(ctx, cl, topic, n, atStart)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for p, e := range end {
		total += e - start[p]
	}
	return total
}

// ReadToEnd reads every record of topic up to its end offsets at the time
// of the call (for topics that are never compacted, whose offsets are dense).
func ReadToEnd(t testing.TB, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	n := TopicSize(t, brokers, topic)
	if n == 0 {
		return nil
	}
	return ReadAll(t, brokers, topic, int(n), time.Minute)
}

// partitions returns the partition count of topic.
func partitions(ctx context.Context, cl *kgo.Client, topic string) (int, error) {
	meta := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	meta.Topics = append(meta.Topics, mt)
	mresp, err := meta.RequestWith(ctx, cl)
	if err != nil {
		return 0, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	if len(mresp.Topics) != 1 || len(mresp.Topics[0].Partitions) == 0 {
		return 0, fmt.Errorf("topic %s has no partitions", topic)
	}
	return len(mresp.Topics[0].Partitions), nil
}

// offsetsAt returns the offset of each of topic's n partitions at ts
// (atEnd or atStart).
func offsetsAt(ctx context.Context, cl *kgo.Client, topic string, n int, ts int64) (map[int32]int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for p := range n {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = int32(p)
		rp.Timestamp = ts
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	out := make(map[int32]int64, n)
	for _, s := range cl.RequestSharded(ctx, req) {
		if s.Err != nil {
			return nil, fmt.Errorf("offsets of %s: %w", topic, s.Err)
		}
		for _, t := range s.Resp.(*kmsg.ListOffsetsResponse).Topics {
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					return nil, fmt.Errorf("offset of %s/%d: %w", topic, p.Partition, err)
				}
				out[p.Partition] = p.Offset
			}
		}
	}
	return out, nil
}
