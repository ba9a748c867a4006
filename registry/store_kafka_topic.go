package registry

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/kafkaconn"
)

// ensureTopic creates the schemas topic (1 partition, compacted) if it is missing
// and checks that an existing one has exactly one partition and is compacted.
func ensureTopic(ctx context.Context, cl *kgo.Client, topic string, replication int16) error {
	adm := kadm.NewClient(cl) // not closed: it is cl, which the store keeps
	if err := kafkaconn.CreateTopic(ctx, adm, topic, 1, replication, map[string]string{"cleanup.policy": "compact"}); err != nil {
		return err
	}
	if err := checkPartitions(ctx, adm, topic); err != nil {
		return err
	}
	return checkCompacted(ctx, adm, topic)
}

// checkPartitions checks the topic has one partition.
func checkPartitions(ctx context.Context, adm *kadm.Client, topic string) error {
	ps, err := kafkaconn.Partitions(ctx, adm, topic)
	if err != nil {
		return fmt.Errorf("reading metadata of topic %s: %w", topic, err)
	}
	if len(ps) != 1 {
		return fmt.Errorf("topic %s has %d partitions; the schema registry needs exactly 1", topic, len(ps))
	}
	return nil
}

// checkCompacted refuses a schemas topic whose cleanup.policy would delete schemas.
func checkCompacted(ctx context.Context, adm *kadm.Client, topic string) error {
	configs, err := kafkaconn.TopicConfigs(ctx, adm, []string{"cleanup.policy"}, topic)
	if err != nil {
		return err
	}
	if policy, ok := configs[topic]["cleanup.policy"]; ok && policy != "compact" {
		return fmt.Errorf("topic %s has cleanup.policy=%s; the schema registry needs cleanup.policy=compact", topic, policy)
	}
	return nil
}
