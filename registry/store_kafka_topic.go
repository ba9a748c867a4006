package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ensureTopic creates the schemas topic (1 partition, compacted) if it is missing
// and checks that an existing one has exactly one partition and is compacted.
func ensureTopic(ctx context.Context, cl *kgo.Client, topic string, replication int16) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30_000
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic = topic
	t.NumPartitions = 1
	t.ReplicationFactor = replication
	c := kmsg.NewCreateTopicsRequestTopicConfig()
	c.Name = "cleanup.policy"
	c.Value = kmsg.StringPtr("compact")
	t.Configs = append(t.Configs, c)
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("creating topic %s: %w", topic, err)
	}
	for _, rt := range resp.Topics {
		if err := kerr.ErrorForCode(rt.ErrorCode); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("creating topic %s: %w", topic, err)
		}
	}
	if err := checkPartitions(ctx, cl, topic); err != nil {
		return err
	}
	return checkCompacted(ctx, cl, topic)
}

// checkPartitions waits until the topic's metadata is known and checks it has one partition.
func checkPartitions(ctx context.Context, cl *kgo.Client, topic string) error {
	for {
		req := kmsg.NewPtrMetadataRequest()
		mt := kmsg.NewMetadataRequestTopic()
		mt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, mt)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return fmt.Errorf("reading metadata of topic %s: %w", topic, err)
		}
		if len(resp.Topics) != 1 {
			return fmt.Errorf("reading metadata of topic %s: %d topics in the answer", topic, len(resp.Topics))
		}
		mtopic := resp.Topics[0]
		err = kerr.ErrorForCode(mtopic.ErrorCode)
		switch {
		case err == nil && len(mtopic.Partitions) == 1:
			return nil
		case err == nil && len(mtopic.Partitions) > 1:
			return fmt.Errorf("topic %s has %d partitions; the schema registry needs exactly 1", topic, len(mtopic.Partitions))
		case err != nil && !kerr.IsRetriable(err):
			return fmt.Errorf("reading metadata of topic %s: %w", topic, err)
		}
		select { // new topic not yet visible everywhere: retry
		case <-ctx.Done():
			return fmt.Errorf("waiting for topic %s: %w", topic, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// checkCompacted refuses a schemas topic whose cleanup.policy would delete schemas.
func checkCompacted(ctx context.Context, cl *kgo.Client, topic string) error {
	req := kmsg.NewPtrDescribeConfigsRequest()
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType = kmsg.ConfigResourceTypeTopic
	res.ResourceName = topic
	res.ConfigNames = []string{"cleanup.policy"}
	req.Resources = append(req.Resources, res)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("describing topic %s: %w", topic, err)
	}
	for _, r := range resp.Resources {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			return fmt.Errorf("describing topic %s: %w", topic, err)
		}
		for _, c := range r.Configs {
			if c.Name == "cleanup.policy" && c.Value != nil && *c.Value != "compact" {
				return fmt.Errorf("topic %s has cleanup.policy=%s; the schema registry needs cleanup.policy=compact", topic, *c.Value)
			}
		}
	}
	return nil
}
