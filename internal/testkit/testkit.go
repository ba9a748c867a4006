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
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/kafkaconn"
)

// Unique returns prefix with a random suffix, so tests on a shared real
// broker never meet each other's topics and groups.
func Unique(prefix string) string {
	return prefix + "-" + strings.ToLower(rand.Text()[:8])
}

// Client returns a franz-go client closed when the test ends, connected as
// Kafka(brokers) says.
func Client(t testing.TB, brokers []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := Kafka(brokers).NewClient(opts...)
	if err != nil {
		t.Fatalf("kafka client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// Admin returns an admin client closed when the test ends, connected as
// Kafka(brokers) says.
func Admin(t testing.TB, brokers []string) *kadm.Client {
	t.Helper()
	adm, err := Kafka(brokers).NewAdmin()
	if err != nil {
		t.Fatalf("kafka admin client: %v", err)
	}
	t.Cleanup(adm.Close)
	return adm
}

// CreateTopic creates a topic with partitions and replication factor 1, and
// waits until each partition has a leader (a real broker creates topics
// asynchronously), so that what the test does next finds it.
func CreateTopic(t testing.TB, brokers []string, topic string, partitions int, configs map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := kafkaconn.CreateTopic(ctx, Admin(t, brokers), topic, int32(partitions), 1, configs); err != nil {
		t.Fatalf("creating topic %s: %v", topic, err)
	}
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
	cl, err := Kafka(brokers).NewClient(kgo.ConsumeTopics(topic),
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
