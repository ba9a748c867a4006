package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/IBM/sarama"
)

// topics checks and creates the topics pipelines use before any consumer
// starts: goka does not create output topics, and a misconfigured table
// topic is better reported by name than discovered by a stuck consumer.
type topics struct {
	admin sarama.ClusterAdmin
	k     Kafka
	log   *slog.Logger
}

// TableTopic is the name goka gives a group's table.
func TableTopic(group string) string { return group + "-table" }

func (t *topics) partitions(name string) (int, bool, error) {
	md, err := t.admin.DescribeTopics([]string{name})
	if err != nil {
		return 0, false, fmt.Errorf("describing topic %s: %w", name, err)
	}
	if len(md) == 0 || errors.Is(md[0].Err, sarama.ErrUnknownTopicOrPartition) {
		return 0, false, nil
	}
	if md[0].Err != sarama.ErrNoError {
		return 0, false, fmt.Errorf("describing topic %s: %w", name, md[0].Err)
	}
	return len(md[0].Partitions), true, nil
}

func (t *topics) create(ctx context.Context, name string, partitions int, compact bool, why string) error {
	detail := &sarama.TopicDetail{NumPartitions: int32(partitions), ReplicationFactor: int16(t.k.Replication)}
	if compact {
		policy := "compact"
		detail.ConfigEntries = map[string]*string{"cleanup.policy": &policy}
	}
	err := t.admin.CreateTopic(name, detail, false)
	if err != nil && !errors.Is(err, sarama.ErrTopicAlreadyExists) {
		var te *sarama.TopicError
		if !errors.As(err, &te) || te.Err != sarama.ErrTopicAlreadyExists {
			return fmt.Errorf("creating topic %s (%s) with %d partitions and replication %d: %w", name, why, partitions, t.k.Replication, err)
		}
	}
	t.log.Info("created topic", "topic", name, "partitions", partitions, "replication", t.k.Replication, "for", why)
	// Wait until the broker shows it, so goka's own checks find it.
	for {
		_, ok, err := t.partitions(name)
		if err == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ensure makes every topic of the pipelines exist and checks table topics.
// It returns each input topic's partition count.
func (t *topics) ensure(ctx context.Context, ps []*Pipeline, all []*Pipeline) (map[string]int, error) {
	counts := map[string]int{}
	byName := map[string]*Pipeline{}
	for _, p := range all {
		byName[p.Name] = p
	}
	for _, p := range ps {
		n, ok, err := t.partitions(p.Input.Topic)
		if err != nil {
			return nil, err
		}
		if !ok {
			n = t.k.Partitions
			if err := t.create(ctx, p.Input.Topic, n, false, "input of "+p.Name); err != nil {
				return nil, err
			}
		}
		counts[p.Input.Topic] = n
		targets := []string{p.DeadLetter}
		for _, name := range p.OutputList {
			targets = append(targets, p.Outputs[name].Topic)
		}
		for _, topic := range targets {
			m, ok, err := t.partitions(topic)
			if err != nil {
				return nil, err
			}
			if !ok {
				if err := t.create(ctx, topic, n, false, "output of "+p.Name); err != nil {
					return nil, err
				}
				continue
			}
			if t.k.Partitioner == PartitionerCRC32 && m != n {
				return nil, fmt.Errorf("pipeline %s: topic %s has %d partitions but input %s has %d; the crc32 partitioner needs equal counts", p.Name, topic, m, p.Input.Topic, n)
			}
		}
		if p.Stateful() {
			if err := t.checkTable(ctx, p.Name, TableTopic(p.Group), n); err != nil {
				return nil, err
			}
		}
		for _, s := range p.Steps {
			if s.Table == "" {
				continue
			}
			q := byName[s.Table]
			if q == nil {
				continue
			}
			if err := t.checkTable(ctx, q.Name, TableTopic(q.Group), n); err != nil {
				return nil, err
			}
		}
	}
	return counts, nil
}

// checkTable verifies a group table: compacted and with the partitions of
// the input it is co-partitioned with. A missing table is created here,
// compacted, rather than by goka: instances starting together would race to
// create it, and goka fails on "already exists".
func (t *topics) checkTable(ctx context.Context, pipeline, table string, partitions int) error {
	m, ok, err := t.partitions(table)
	if err != nil {
		return err
	}
	if !ok {
		return t.create(ctx, table, partitions, true, "table of "+pipeline)
	}
	if m != partitions {
		return fmt.Errorf("topic %s (table of pipeline %s) has %d partitions but its input has %d: a group table must be co-partitioned with its input", table, pipeline, m, partitions)
	}
	results, err := t.admin.DescribeConfigs([]*sarama.ConfigResource{{Type: sarama.TopicResource, Name: table, ConfigNames: []string{"cleanup.policy"}}}, sarama.DescribeConfigsOptions{})
	if err != nil {
		return fmt.Errorf("describing config of topic %s: %w", table, err)
	}
	for _, r := range results {
		if r.ErrorCode != sarama.ErrNoError {
			return fmt.Errorf("describing config of topic %s: %w: %s", table, r.ErrorCode, r.ErrorMsg)
		}
		for _, e := range r.Configs {
			if e.Name == "cleanup.policy" && !strings.Contains(e.Value, "compact") {
				return fmt.Errorf("topic %s (table of pipeline %s) has cleanup.policy=%s: a group table must have cleanup.policy=compact", table, pipeline, e.Value)
			}
		}
	}
	return nil
}

// targetTopics are the topics a pipeline writes: its outputs, its
// dead-letter topic and its table.
func targetTopics(p *Pipeline) []string {
	out := []string{p.DeadLetter}
	for _, name := range p.OutputList {
		out = append(out, p.Outputs[name].Topic)
	}
	if p.Stateful() {
		out = append(out, TableTopic(p.Group))
	}
	return out
}

// maxMessageBytes reads the max.message.bytes of each topic: the topic's own
// setting, else the broker's (DescribeConfigs answers with the value in
// force), else Kafka's default.
func (t *topics) maxMessageBytes(names []string) (map[string]int, error) {
	const key = "max.message.bytes"
	res := make([]*sarama.ConfigResource, 0, len(names))
	out := make(map[string]int, len(names))
	for _, name := range names {
		if _, dup := out[name]; dup {
			continue
		}
		out[name] = DefaultMaxMessageBytes
		res = append(res, &sarama.ConfigResource{Type: sarama.TopicResource, Name: name, ConfigNames: []string{key}})
	}
	results, err := t.admin.DescribeConfigs(res, sarama.DescribeConfigsOptions{})
	if err != nil {
		return nil, fmt.Errorf("describing config of topics %v: %w", names, err)
	}
	for _, r := range results {
		if r.ErrorCode != sarama.ErrNoError {
			return nil, fmt.Errorf("describing config of topic %s: %w: %s", r.Name, r.ErrorCode, r.ErrorMsg)
		}
		for _, e := range r.Configs {
			if e.Name != key {
				continue
			}
			n, err := strconv.Atoi(e.Value)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("topic %s has %s=%q: want a positive number", r.Name, key, e.Value)
			}
			out[r.Name] = n
		}
	}
	return out, nil
}
