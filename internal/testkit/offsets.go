package testkit

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// GroupLag returns how many records of topic the consumer group has not
// committed yet (end offsets minus committed offsets, over all partitions).
func GroupLag(ctx context.Context, brokers []string, group, topic string) (int64, error) {
	adm, err := Kafka(brokers).NewAdmin()
	if err != nil {
		return 0, err
	}
	defer adm.Close()
	end, err := listed(adm.ListEndOffsets(ctx, topic))
	if err != nil {
		return 0, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	committed, err := adm.FetchOffsetsForTopics(ctx, group, topic)
	if err == nil {
		err = committed.Error()
	}
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) { // kfake: a group that never committed
		return 0, fmt.Errorf("committed offsets of %s: %w", group, err)
	}
	var lag int64
	end.Each(func(e kadm.ListedOffset) {
		c := int64(0)
		if o, ok := committed.Lookup(topic, e.Partition); ok && o.At > 0 {
			c = o.At
		}
		lag += e.Offset - c
	})
	return lag, nil
}

// listed returns offsets, or the first error of their listing.
func listed(offsets kadm.ListedOffsets, err error) (kadm.ListedOffsets, error) {
	if err == nil {
		err = offsets.Error()
	}
	if err == nil && len(offsets) == 0 {
		err = kerr.UnknownTopicOrPartition
	}
	return offsets, err
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
	adm := Admin(t, brokers)
	end, err := listed(adm.ListEndOffsets(ctx, topic))
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	start, err := listed(adm.ListStartOffsets(ctx, topic))
	if err != nil {
		t.Fatalf("start offsets of %s: %v", topic, err)
	}
	var total int64
	end.Each(func(e kadm.ListedOffset) {
		s, _ := start.Lookup(topic, e.Partition)
		total += e.Offset - s.Offset
	})
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
