package pipeline_test

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/devenv"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/internal/userevents"
	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/registry"
)

// testBrokers returns the brokers of $SLUICE_TEST_BROKERS, or starts an
// embedded kfake broker (no registry) closed when the test ends.
func testBrokers(t *testing.T) []string {
	t.Helper()
	if list := os.Getenv(devenv.EnvTestBrokers); list != "" {
		var out []string
		for _, b := range strings.Split(list, ",") {
			if b = strings.TrimSpace(b); b != "" {
				out = append(out, b)
			}
		}
		return out
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatalf("starting kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// testRegistry is a schema registry served on a fixed address that the test
// can stop and start again over the same store.
type testRegistry struct {
	t     *testing.T
	store registry.Store
	addr  string

	cancel context.CancelFunc
	done   chan error
}

func newTestRegistry(t *testing.T, store registry.Store, addr string) *testRegistry {
	r := &testRegistry{t: t, store: store, addr: addr}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *testRegistry) url() string { return "http://" + r.addr }

// start serves the registry and returns once it listens. The port was free
// when it was picked; if another process took it meanwhile, starting fails.
func (r *testRegistry) start() {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	srv := registry.NewServer(r.store)
	go func() { done <- registry.ListenAndServe(ctx, r.addr, srv, func(net.Addr) { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		r.t.Fatalf("starting the registry on %s: %v", r.addr, err)
	}
	r.cancel, r.done = cancel, done
}

// stop shuts the registry down and waits until it no longer listens.
func (r *testRegistry) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	if err := <-r.done; err != nil {
		r.t.Errorf("registry on %s: %v", r.addr, err)
	}
	r.cancel, r.done = nil, nil
}

// referenceConfigAt is referenceConfig for a broker and registry that do not
// come from a devenv.Env.
func referenceConfigAt(t *testing.T, brokers []string, registryURL string) (*pipeline.Config, refNames) {
	t.Helper()
	src, err := os.ReadFile("../pipelines.yaml")
	if err != nil {
		t.Fatal(err)
	}
	suffix := testkit.Unique("")
	text := string(src)
	for _, name := range []string{"user-topic", "user-stats", "big-purchases"} {
		text = strings.ReplaceAll(text, name, name+suffix)
	}
	text = strings.Replace(text, "  partitioner: murmur2", "  partitioner: murmur2\n  heartbeat: 100ms\n  session_timeout: 6s", 1)
	getenv := func(k string) string {
		switch k {
		case "SLUICE_BROKERS":
			return strings.Join(brokers, ",")
		case "SLUICE_REGISTRY_URL":
			return registryURL
		}
		return ""
	}
	cfg, err := pipeline.Parse("../pipelines.yaml", []byte(text), pipeline.WithGetenv(getenv))
	if err != nil {
		t.Fatalf("loading reference pipelines: %v", err)
	}
	return cfg, refNames{
		input: "user-topic" + suffix, stats: "user-stats" + suffix, big: "big-purchases" + suffix,
		dlq: "user-topic" + suffix + "-dlq", statsGroup: "user-stats" + suffix, bigGroup: "big-purchases" + suffix,
	}
}

// readToEnd reads every record of topic up to its end offsets at the time
// of the call (topics here are never compacted, so offsets are dense).
func readToEnd(t *testing.T, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	n := topicSize(t, brokers, topic)
	if n == 0 {
		return nil
	}
	return testkit.ReadAll(t, brokers, topic, int(n), time.Minute)
}

// topicSize is the sum over topic's partitions of end minus start offsets.
func topicSize(t *testing.T, brokers []string, topic string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := testkit.Client(t, brokers)
	meta := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	meta.Topics = append(meta.Topics, mt)
	mresp, err := meta.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("metadata of %s: %v", topic, err)
	}
	if len(mresp.Topics) != 1 || len(mresp.Topics[0].Partitions) == 0 {
		t.Fatalf("topic %s has no partitions", topic)
	}
	parts := len(mresp.Topics[0].Partitions)
	var total int64
	for _, ts := range []int64{-1, -2} { // latest, then earliest
		req := kmsg.NewPtrListOffsetsRequest()
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = topic
		for p := range parts {
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Partition = int32(p)
			rp.Timestamp = ts
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
		for _, s := range cl.RequestSharded(ctx, req) {
			if s.Err != nil {
				t.Fatalf("offsets of %s: %v", topic, s.Err)
			}
			for _, rt := range s.Resp.(*kmsg.ListOffsetsResponse).Topics {
				for _, p := range rt.Partitions {
					if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
						t.Fatalf("offset of %s/%d: %v", topic, p.Partition, err)
					}
					if ts == -1 {
						total += p.Offset
					} else {
						total -= p.Offset
					}
				}
			}
		}
	}
	return total
}

// waitLagZero waits until group has committed every record of topic.
func waitLagZero(t *testing.T, brokers []string, group, topic string, timeout time.Duration) {
	t.Helper()
	var last int64
	var lastErr error
	testkit.Eventually(t, timeout, "group "+group+" to commit all of "+topic, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		last, lastErr = testkit.GroupLag(ctx, brokers, group, topic)
		return lastErr == nil && last == 0
	})
}

// mustHeader returns a record header, reporting an error when it is missing.
func mustHeader(t *testing.T, r *kgo.Record, key string) string {
	t.Helper()
	v, ok := testkit.Header(r, key)
	if !ok {
		t.Errorf("record %d/%d lacks header %s", r.Partition, r.Offset, key)
	}
	return v
}

// eventCounts are what the reference pipelines must make of some events.
type eventCounts struct{ poison, negative, heartbeat, big int }

func countEvents(events []userevents.Event) eventCounts {
	var c eventCounts
	for _, e := range events {
		switch e.Kind {
		case userevents.KindPoison:
			c.poison++
		case userevents.KindNegative:
			c.negative++
		case userevents.KindHeartbeat:
			c.heartbeat++
		}
		if e.Kind != userevents.KindPoison && e.EventType == "purchase" && e.Amount >= 100 {
			c.big++
		}
	}
	return c
}
