package cli

import (
	"context"
	"fmt"
	"log/slog"

	"golang.org/x/sync/errgroup"

	"github.com/sluicehq/sluice/outbox"
	"github.com/sluicehq/sluice/pipeline"
)

// envOutboxDSN names the environment variable of the outbox's DSN: it
// overrides outbox.dsn for run, and is the only way to give dev one (with
// --outbox-dsn).
const envOutboxDSN = "SLUICE_OUTBOX_DSN"

// goOutbox runs the outbox relay of cfg in g, connected to brokers and to
// the registry at registryURL (the file's when empty), when cfg declares an
// outbox; dsn, when set, replaces outbox.dsn. metrics are the relay's
// metrics, served by the operations endpoints.
func goOutbox(ctx context.Context, g *errgroup.Group, cfg *pipeline.Config, brokers []string, registryURL, dsn string,
	metrics *outbox.Metrics, log *slog.Logger) error {
	if cfg.Outbox == nil {
		return nil
	}
	oc := *cfg.Outbox
	if dsn != "" {
		oc.DSN = dsn
	}
	if len(brokers) == 0 {
		brokers = cfg.Kafka.Brokers
	}
	opts := outbox.Options{
		Config:          &oc,
		Kafka:           cfg.Kafka.Conn(brokers, cfg.Kafka.ClientID+"-outbox"),
		SubjectStrategy: cfg.Registry.Strategy(),
		Partitions:      cfg.Kafka.Partitions,
		Replication:     cfg.Kafka.Replication,
		Metrics:         metrics,
		Logger:          log,
	}
	for _, e := range oc.Events {
		if e.Codec == "avro" {
			reg, err := cfg.Registry.Client(registryURL)
			if err != nil {
				return fmt.Errorf("outbox: %w", err)
			}
			opts.Registry = reg
			break
		}
	}
	relay, err := outbox.New(opts)
	if err != nil {
		return err
	}
	g.Go(func() error { return relay.Run(ctx) })
	return nil
}
