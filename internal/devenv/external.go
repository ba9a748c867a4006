package devenv

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/registry"
)

// startExternal runs the registry on addr against an existing cluster,
// storing its schemas in a fresh topic that Close deletes.
func startExternal(ctx context.Context, conn kafkaconn.Config, addr string, logger *slog.Logger) (*Env, error) {
	opts, err := conn.Opts()
	if err != nil {
		return nil, err
	}
	topic := SchemasTopic + "-" + strings.ToLower(rand.Text()[:12])
	st, err := registry.NewKafkaStore(ctx, registry.KafkaStoreConfig{
		Brokers: conn.Brokers, ClientOpts: opts, Topic: topic, ReplicationFactor: 1,
		Logger: logger.With("component", "schema-store"),
	})
	if err != nil {
		return nil, fmt.Errorf("opening schema store on %v: %w", conn.Brokers, err)
	}
	drop := func() error {
		return errors.Join(st.Close(), deleteTopic(context.WithoutCancel(ctx), conn, topic))
	}
	env, err := startRegistry(ctx, st, addr, logger)
	if err != nil {
		return nil, errors.Join(err, drop())
	}
	env.brokers = append([]string(nil), conn.Brokers...)
	env.cleanup = drop
	return env, nil
}

// deleteTopic removes topic from the cluster; a missing topic is not an error.
func deleteTopic(ctx context.Context, conn kafkaconn.Config, topic string) error {
	adm, err := conn.NewAdmin()
	if err != nil {
		return fmt.Errorf("deleting topic %s: %w", topic, err)
	}
	defer adm.Close()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return kafkaconn.DeleteTopic(ctx, adm, topic)
}
