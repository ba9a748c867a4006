package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluicehq/sluice/internal/kafkaconn"
)

// topics checks and creates the topics pipelines use before any consumer
// starts: goka does not create output topics, and a misconfigured table
// topic is better reported by name than discovered by a stuck consumer.
type topics struct {
	adm *kadm.Client
	k   Kafka
	log *slog.Logger
}

// TableTopic is the name goka gives a group's table.
func TableTopic(group string) string { return group + "-table" }

func (t *topics) partitions(ctx context.Context, name string) (int, bool, error) {
	ps, err := kafkaconn.Partitions(ctx, t.adm, name)
	switch {
	case errors.Is(err, kafkaconn.ErrNoTopic):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("describing topic %s: %w", name, err)
	}
	return len(ps), true, nil
}

// create creates a topic and waits until the broker shows it with a leader
// for each partition, so that goka's own checks find it.
func (t *topics) create(ctx context.Context, name string, partitions int, compact bool, why string) error {
	var configs map[string]string
	if compact {
		configs = map[string]string{"cleanup.policy": "compact"}
	}
	if err := kafkaconn.CreateTopic(ctx, t.adm, name, int32(partitions), int16(t.k.Replication), configs); err != nil {
		return fmt.Errorf("creating topic %s (%s) with %d partitions and replication %d: %w", name, why, partitions, t.k.Replication, err)
	}
	t.log.Info("created topic", "topic", name, "partitions", partitions, "replication", t.k.Replication, "for", why)
	return nil
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
		n, ok, err := t.partitions(ctx, p.Input.Topic)
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
			m, ok, err := t.partitions(ctx, topic)
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
		if _, _, ok := windowStep(p); ok {
			if err := t.checkLoop(ctx, p, n); err != nil {
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
	m, ok, err := t.partitions(ctx, table)
	if err != nil {
		return err
	}
	if !ok {
		return t.create(ctx, table, partitions, true, "table of "+pipeline)
	}
	if m != partitions {
		return fmt.Errorf("topic %s (table of pipeline %s) has %d partitions but its input has %d: a group table must be co-partitioned with its input", table, pipeline, m, partitions)
	}
	configs, err := kafkaconn.TopicConfigs(ctx, t.adm, []string{"cleanup.policy"}, table)
	if err != nil {
		return err
	}
	if policy, ok := configs[table]["cleanup.policy"]; ok && !strings.Contains(policy, "compact") {
		return fmt.Errorf("topic %s (table of pipeline %s) has cleanup.policy=%s: a group table must have cleanup.policy=compact", table, pipeline, policy)
	}
	return nil
}

// checkLoop creates the loop topic of a pipeline with a window step
// (<group>-loop, see windows.go), co-partitioned with its input, or checks
// the one there is.
func (t *topics) checkLoop(ctx context.Context, p *Pipeline, partitions int) error {
	loop := LoopTopic(p.Group)
	m, ok, err := t.partitions(ctx, loop)
	if err != nil {
		return err
	}
	if !ok {
		return t.create(ctx, loop, partitions, false, "window loopbacks of "+p.Name)
	}
	if m != partitions {
		return fmt.Errorf("topic %s (window loopbacks of pipeline %s) has %d partitions but its input has %d: it must be co-partitioned with its input", loop, p.Name, m, partitions)
	}
	return nil
}

// LoopTopic is the topic of the loopbacks of group's window pipeline.
func LoopTopic(group string) string { return group + "-loop" }

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
func (t *topics) maxMessageBytes(ctx context.Context, names []string) (map[string]int, error) {
	const key = "max.message.bytes"
	out := make(map[string]int, len(names))
	var unique []string
	for _, name := range names {
		if _, dup := out[name]; dup {
			continue
		}
		out[name] = DefaultMaxMessageBytes
		unique = append(unique, name)
	}
	configs, err := kafkaconn.TopicConfigs(ctx, t.adm, []string{key}, unique...)
	if err != nil {
		return nil, err
	}
	for name, vals := range configs {
		v, ok := vals[key]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("topic %s has %s=%q: want a positive number", name, key, v)
		}
		out[name] = n
	}
	return out, nil
}
