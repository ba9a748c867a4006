// Package testkit is the one kit of sluice's tests: the services a broker
// test runs against (Env, Brokers), topics, producing and reading records
// with franz-go independently of sluice's own runtime so that tests check
// sluice from the outside, bounded waits that report what they last saw,
// the seed of random tests, and the oracle that says what the reference
// pipelines must make of generated events.
//
// Only tests import it.
package testkit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Unique returns prefix with a random suffix, so tests on a shared real
// broker never meet each other's topics and groups.
func Unique(prefix string) string {
	return prefix + "-" + strings.ToLower(rand.Text()[:8])
}

// Client returns a franz-go client closed when the test ends.
func Client(t testing.TB, brokers []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		t.Fatalf("kafka client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// CreateTopic creates a topic with partitions and replication factor 1.
func CreateTopic(t testing.TB, brokers []string, topic string, partitions int, configs map[string]string) {
	t.Helper()
	cl := Client(t, brokers)
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic = topic
	rt.NumPartitions = int32(partitions)
	rt.ReplicationFactor = 1
	for k, v := range configs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name = k
		c.Value = kmsg.StringPtr(v)
		rt.Configs = append(rt.Configs, c)
	}
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("creating topic %s: %v", topic, err)
	}
	for _, r := range resp.Topics {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			t.Fatalf("creating topic %s: %v", topic, err)
		}
	}
	// A real broker creates topics asynchronously: wait until every partition
	// has a leader, so that what the test does next finds the topic.
	EventuallyValue(t, 30*time.Second, "topic "+topic+" to have a leader for each of its "+strconv.Itoa(partitions)+" partitions", func() (string, bool) {
		meta := kmsg.NewPtrMetadataRequest()
		mt := kmsg.NewMetadataRequestTopic()
		mt.Topic = kmsg.StringPtr(topic)
		meta.Topics = append(meta.Topics, mt)
		mctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		mresp, err := meta.RequestWith(mctx, cl)
		switch {
		case err != nil:
			return "no metadata: " + err.Error(), false
		case len(mresp.Topics) != 1:
			return fmt.Sprintf("%d topics in the metadata", len(mresp.Topics)), false
		case mresp.Topics[0].ErrorCode != 0:
			return "topic error: " + kerr.ErrorForCode(mresp.Topics[0].ErrorCode).Error(), false
		}
		led := 0
		for _, p := range mresp.Topics[0].Partitions {
			if p.ErrorCode == 0 && p.Leader >= 0 {
				led++
			}
		}
		return fmt.Sprintf("%d partitions, %d with a leader", len(mresp.Topics[0].Partitions), led),
			len(mresp.Topics[0].Partitions) == partitions && led == partitions
	})
}

// Produce writes records synchronously (the murmur2 partitioner of the Java
// client places keyed records).
func Produce(t testing.TB, brokers []string, records []*kgo.Record) {
	t.Helper()
	cl := Client(t, brokers, kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)), kgo.ProducerLinger(5*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatalf("producing %d records: %v", len(records), err)
	}
}

// ReadAll reads topic from the beginning until n records have arrived or
// timeout passes, and returns what it read in partition-then-offset order
// per partition (records of one key keep their order).
func ReadAll(t testing.TB, brokers []string, topic string, n int, timeout time.Duration) []*kgo.Record {
	t.Helper()
	out, err := Read(brokers, topic, n, timeout)
	if err != nil {
		t.Fatalf("reading %s: %v (got %d of %d records)", topic, err, len(out), n)
	}
	return out
}

// Read is ReadAll without a test: it returns the records read so far with an
// error when fewer than n arrived in time.
func Read(brokers []string, topic string, n int, timeout time.Duration) ([]*kgo.Record, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return out, fmt.Errorf("timed out after %s", timeout)
		}
		for _, e := range fs.Errors() {
			if !errors.Is(e.Err, context.DeadlineExceeded) {
				return out, fmt.Errorf("fetching %s: %w", e.Topic, e.Err)
			}
		}
		out = append(out, fs.Records()...)
	}
	return out, nil
}

// Header returns the value of a record header, and whether it is there.
func Header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}
