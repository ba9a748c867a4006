package devenv

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/registry"
)

// startExternal runs the registry on addr against an existing cluster,
// storing its schemas in a fresh topic that Close deletes.
func startExternal(ctx context.Context, brokers []string, addr string, logger *slog.Logger) (*Env, error) {
	topic := SchemasTopic + "-" + strings.ToLower(rand.Text()[:12])
	st, err := registry.NewKafkaStore(ctx, registry.KafkaStoreConfig{
		Brokers: brokers, Topic: topic, ReplicationFactor: 1,
		Logger: logger.With("component", "schema-store"),
	})
	if err != nil {
		return nil, fmt.Errorf("opening schema store on %v: %w", brokers, err)
	}
	drop := func() error {
		return errors.Join(st.Close(), deleteTopic(context.WithoutCancel(ctx), brokers, topic))
	}
	env, err := startRegistry(ctx, st, addr, logger)
	if err != nil {
		return nil, errors.Join(err, drop())
	}
	env.brokers = append([]string(nil), brokers...)
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
