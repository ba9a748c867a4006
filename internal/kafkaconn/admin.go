package kafkaconn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// ErrNoTopic is returned (wrapped) for a topic the cluster does not have.
var ErrNoTopic = errors.New("topic does not exist")

// Partitions returns the partitions of topic, sorted; ErrNoTopic when the
// topic does not exist. A topic being created (no leader yet) counts as
// existing, with the partitions the broker lists.
func Partitions(ctx context.Context, adm *kadm.Client, topic string) ([]int32, error) {
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("asking the brokers about topic %s: %w", topic, err)
	}
	td, ok := md.Topics[topic]
	switch {
	case !ok, errors.Is(td.Err, kerr.UnknownTopicOrPartition):
		return nil, fmt.Errorf("%s: %w", topic, ErrNoTopic)
	case td.Err != nil && !errors.Is(td.Err, kerr.LeaderNotAvailable):
		return nil, fmt.Errorf("topic %s: %w", topic, td.Err)
	}
	ps := make([]int32, 0, len(td.Partitions))
	for p := range td.Partitions {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps, nil
}

// CreateTopic creates topic with partitions, replication and configs (a
// topic that already exists is left as it is) and waits until every
// partition of topic has a leader, so that what comes next finds it: a real
// broker creates topics asynchronously.
func CreateTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int32, replication int16, configs map[string]string) error {
	var cfgs map[string]*string
	if len(configs) > 0 {
		cfgs = make(map[string]*string, len(configs))
		for k, v := range configs {
			cfgs[k] = kadm.StringPtr(v)
		}
	}
	resp, err := adm.CreateTopic(ctx, partitions, replication, cfgs, topic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		if resp.ErrMessage != "" {
			return fmt.Errorf("creating topic %s: %w: %s", topic, err, resp.ErrMessage)
		}
		return fmt.Errorf("creating topic %s: %w", topic, err)
	}
	return WaitLeaders(ctx, adm, topic)
}

// WaitLeaders waits until topic exists and every partition has a leader.
func WaitLeaders(ctx context.Context, adm *kadm.Client, topic string) error {
	last := "no answer yet"
	for {
		md, err := adm.Metadata(ctx, topic)
		if err == nil {
			td := md.Topics[topic]
			led := 0
			for _, p := range td.Partitions {
				if p.Err == nil && p.Leader >= 0 {
					led++
				}
			}
			if td.Err == nil && len(td.Partitions) > 0 && led == len(td.Partitions) {
				return nil
			}
			last = fmt.Sprintf("%d partitions, %d with a leader", len(td.Partitions), led)
			if td.Err != nil {
				last = td.Err.Error()
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for topic %s (%s): %w", topic, last, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TopicConfigs returns the values of keys for each topic, as in force (the
// topic's own setting, else the broker's); a key without a value is absent.
func TopicConfigs(ctx context.Context, adm *kadm.Client, keys []string, topics ...string) (map[string]map[string]string, error) {
	rcs, err := adm.DescribeTopicConfigs(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("describing config of topics %v: %w", topics, err)
	}
	out := make(map[string]map[string]string, len(rcs))
	for _, rc := range rcs {
		if rc.Err != nil {
			if rc.ErrMessage != "" {
				return nil, fmt.Errorf("describing config of topic %s: %w: %s", rc.Name, rc.Err, rc.ErrMessage)
			}
			return nil, fmt.Errorf("describing config of topic %s: %w", rc.Name, rc.Err)
		}
		vals := map[string]string{}
		for _, c := range rc.Configs {
			if slices.Contains(keys, c.Key) && c.Value != nil {
				vals[c.Key] = *c.Value
			}
		}
		out[rc.Name] = vals
	}
	return out, nil
}

// DeleteTopic deletes topic; a topic that does not exist is not an error.
func DeleteTopic(ctx context.Context, adm *kadm.Client, topic string) error {
	if _, err := adm.DeleteTopic(ctx, topic); err != nil && !errors.Is(err, kerr.UnknownTopicOrPartition) {
		return fmt.Errorf("deleting topic %s: %w", topic, err)
	}
	return nil
}

// Ping connects to the cluster and authenticates: a bad address, a TLS
// problem or wrong credentials show here rather than at the first request
// that matters.
func Ping(ctx context.Context, adm *kadm.Client) error {
	if _, err := adm.BrokerMetadata(ctx); err != nil {
		return err
	}
	return nil
}
