package pipeline

import (
	"fmt"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"

	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/kafkaconn/kafkasarama"
	"github.com/sluicehq/sluice/internal/redact"
)

// CheckBrokers refuses a broker address with userinfo (user:password@host:9092)
// or a scheme: a Kafka bootstrap address is host:port, and the clients would
// repeat such an address, password and all, in every connection error. The
// error shows the address without its secret.
func CheckBrokers(addrs []string) error {
	for _, a := range addrs {
		switch {
		case strings.Contains(a, "@"):
			return fmt.Errorf("broker address %q (credentials hidden): a broker address is host:port, without user:password@", redact.URL(a))
		case strings.Contains(a, "://"):
			return fmt.Errorf("broker address %q: a broker address is host:port, without a scheme", a)
		}
	}
	return nil
}

// saramaConfig builds the client configuration of one pipeline, connected
// as conn says (client id, TLS, SASL). Each pipeline gets its own: goka's
// global config is never touched.
func saramaConfig(k Kafka, conn kafkaconn.Config) (*sarama.Config, error) {
	cfg := goka.DefaultConfig()
	v, err := parseKafkaVersion(k.Version)
	if err != nil {
		return nil, err
	}
	cfg.Version = v
	if err := kafkasarama.Apply(cfg, conn); err != nil {
		return nil, err
	}
	// A new group starts from the earliest offset.
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Group.Session.Timeout = k.SessionTimeout
	cfg.Consumer.Group.Heartbeat.Interval = k.Heartbeat
	// A member that died (SIGKILL) is only evicted when its session expires;
	// a rebalance waits at most this long for members to rejoin. Sarama's
	// read timeout must outlast a JoinGroup that waits that long.
	cfg.Consumer.Group.Rebalance.Timeout = k.SessionTimeout
	// A join or sync refused while the group rebalances (or while its
	// coordinator moves) is retried after 100 ms instead of sarama's 2 s,
	// with the same budget of about 8 s before Consume fails and the
	// processor is restarted.
	cfg.Consumer.Group.Rebalance.Retry.Backoff = 100 * time.Millisecond
	cfg.Consumer.Group.Rebalance.Retry.Max = 80
	cfg.Net.ReadTimeout = max(30*time.Second, k.SessionTimeout+10*time.Second)
	cfg.Consumer.MaxWaitTime = 100 * time.Millisecond
	// Skip records of aborted transactions (an interrupted `sluice dlq
	// replay`, or any transactional producer upstream).
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Flush.Frequency = 5 * time.Millisecond
	cfg.Producer.Compression = sarama.CompressionNone
	// Topics are created on purpose (by sluice or goka), never by a metadata request.
	cfg.Metadata.AllowAutoTopicCreation = false
	cfg.Admin.Timeout = 30 * time.Second
	return cfg, nil
}

// topicManagerConfig makes goka create tables with the configured replication.
func topicManagerConfig(k Kafka) *goka.TopicManagerConfig {
	tmc := goka.NewTopicManagerConfig()
	tmc.Table.Replication = k.Replication
	tmc.Stream.Replication = k.Replication
	tmc.CreateTopicTimeout = 30 * time.Second
	return tmc
}
