package devenv

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/conf"
	"github.com/sluicehq/sluice/registry"
)

// EnvTestBrokers names the environment variable that points integration
// tests at a real broker ("host:port,host:port"); unset means embedded kfake.
const EnvTestBrokers = "SLUICE_TEST_BROKERS"

// ForTest starts the services a broker test needs and closes them when the
// test ends. When $SLUICE_TEST_BROKERS is set it uses that broker and runs
// only the registry, on 127.0.0.1:0, stored in a per-test `_schemas-<random>`
// topic that is deleted afterwards; otherwise it starts kfake and the
// registry on random loopback ports.
func ForTest(t testing.TB) *Env {
	t.Helper()
	var (
		env *Env
		err error
	)
	if list := os.Getenv(EnvTestBrokers); list != "" {
		env, err = startExternal(t.Context(), conf.SplitList(list))
	} else {
		env, err = Start(t.Context(), Config{KafkaAddr: "127.0.0.1:0", RegistryAddr: "127.0.0.1:0"})
	}
	if err != nil {
		t.Fatalf("devenv: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Close(); err != nil {
			t.Errorf("devenv: %v", err)
		}
	})
	return env
}

// startExternal runs the registry against an existing broker, storing its
// schemas in a fresh topic that Close deletes.
func startExternal(ctx context.Context, brokers []string) (*Env, error) {
	if len(brokers) == 0 {
		return nil, fmt.Errorf("$%s lists no broker", EnvTestBrokers)
	}
	topic := SchemasTopic + "-" + strings.ToLower(rand.Text()[:12])
	st, err := registry.NewKafkaStore(ctx, registry.KafkaStoreConfig{
		Brokers: brokers, Topic: topic, ReplicationFactor: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("opening schema store on %v: %w", brokers, err)
	}
	drop := func() error {
		return errors.Join(st.Close(), deleteTopic(context.WithoutCancel(ctx), brokers, topic))
	}
	env, err := startRegistry(ctx, st, "127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, errors.Join(err, drop())
	}
	env.brokers = brokers
	env.cleanup = drop
	return env, nil
}

// deleteTopic removes topic from the cluster; a missing topic is not an error.
func deleteTopic(ctx context.Context, brokers []string, topic string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return fmt.Errorf("deleting topic %s: %w", topic, err)
	}
	defer cl.Close()
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.TimeoutMillis = 15000
	req.TopicNames = []string{topic}
	rt := kmsg.NewDeleteTopicsRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("deleting topic %s: %w", topic, err)
	}
	for _, r := range resp.Topics {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil && !errors.Is(err, kerr.UnknownTopicOrPartition) {
			return fmt.Errorf("deleting topic %s: %w", topic, err)
		}
	}
	return nil
}
