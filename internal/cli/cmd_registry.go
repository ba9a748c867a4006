package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/conf"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/registry"
)

// registryStartTimeout bounds connecting to Kafka and reading the schemas topic.
const registryStartTimeout = 2 * time.Minute

type registryServeOptions struct {
	addr        string
	brokers     string
	memory      bool
	topic       string
	replication int16
	maxSchema   int
	kafkaSec    kafkaSecurityFlags
}

// registryCmd is `sluice registry`, the parent of `registry serve`.
func (a *app) registryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Run sluice's Confluent-compatible schema registry",
	}
	cmd.AddCommand(a.registryServeCmd())
	requireSubcommand(cmd)
	return cmd
}

func (a *app) registryServeCmd() *cobra.Command {
	var o registryServeOptions
	cmd := &cobra.Command{
		Use:   "serve [--addr ADDR] (--brokers LIST | --memory)",
		Short: "Serve the schema registry REST API",
		Long: `Serve the Confluent Schema Registry REST API on --addr.

With --brokers (default $SLUICE_BROKERS) schemas live in the compacted, single-partition
topic --topic (default _schemas, created if missing) in Confluent's format, so a restarted
registry serves the same ids, versions and configs. With --memory they live in memory and
are lost on exit. Stops cleanly on SIGINT or SIGTERM.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("brokers") {
				o.brokers = a.getenv(envBrokers)
			}
			if o.memory && cmd.Flags().Changed("brokers") {
				return usagef("--memory and --brokers are mutually exclusive")
			}
			if !o.memory && strings.TrimSpace(o.brokers) == "" {
				return usagef("registry serve needs --brokers LIST (or $SLUICE_BROKERS) or --memory")
			}
			if o.maxSchema < 1 {
				return usagef("--max-schema-bytes must be at least 1, got %d", o.maxSchema)
			}
			o.kafkaSec.resolve(a.getenv)
			return a.runRegistryServe(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8081", "address to serve the REST API on")
	f.StringVar(&o.brokers, "brokers", "", "comma-separated Kafka brokers (default $SLUICE_BROKERS)")
	f.BoolVar(&o.memory, "memory", false, "keep schemas in memory instead of Kafka")
	f.StringVar(&o.topic, "topic", "_schemas", "schemas topic (with --brokers)")
	f.Int16Var(&o.replication, "replication-factor", 1, "replication factor when creating the schemas topic")
	f.IntVar(&o.maxSchema, "max-schema-bytes", registry.DefaultMaxSchemaBytes, "largest schema text accepted; larger ones get 413")
	addKafkaSecurityFlags(cmd, &o.kafkaSec)
	return cmd
}

func (a *app) runRegistryServe(ctx context.Context, o registryServeOptions) error {
	log := slog.New(slog.NewTextHandler(a.stderr, nil))
	var (
		store registry.Store
		desc  = []any{"store", "memory"}
	)
	if o.memory {
		store = registry.NewMemoryStore()
	} else {
		brokers := conf.SplitList(o.brokers)
		if err := pipeline.CheckBrokers(brokers); err != nil {
			return usagef("--brokers: %v", err)
		}
		t, s, err := o.kafkaSec.config()
		if err != nil {
			return err
		}
		kafka := kafkaconn.Config{Brokers: brokers, TLS: t, SASL: s}
		kopts, err := kafka.Opts()
		if err != nil {
			return usagef("%v", err)
		}
		startCtx, cancel := context.WithTimeout(ctx, registryStartTimeout)
		// Connect first: a refused password or an unreachable broker is a
		// clear error at once, not a store that retries its first request.
		adm, err := kafka.Dial(startCtx)
		if err != nil {
			cancel()
			return err
		}
		adm.Close()
		ks, err := registry.NewKafkaStore(startCtx, registry.KafkaStoreConfig{
			Brokers: brokers, ClientOpts: kopts, Topic: o.topic, ReplicationFactor: o.replication, Logger: log,
		})
		cancel()
		if err != nil {
			return fmt.Errorf("opening schema store: %w", err)
		}
		defer closeRegistryStore(log, ks)
		store = ks
		desc = []any{"store", "kafka", "brokers", strings.Join(brokers, ","), "kafka_security", kafka.Protocol(), "topic", o.topic}
	}
	srv := registry.NewServer(store, registry.WithLogger(log), registry.WithMaxSchemaBytes(o.maxSchema))
	err := registry.ListenAndServe(ctx, o.addr, srv, func(addr net.Addr) {
		log.Info("schema registry serving", append([]any{"addr", addr.String()}, desc...)...)
	})
	if err != nil {
		return err
	}
	log.Info("schema registry stopped")
	return nil
}

func closeRegistryStore(log *slog.Logger, c io.Closer) {
	if err := c.Close(); err != nil {
		log.Error("closing schema store", "err", err)
	}
}
