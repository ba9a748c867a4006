package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/internal/devenv"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/ops"
	"github.com/sluicehq/sluice/internal/tlsconf"
	"github.com/sluicehq/sluice/outbox"
	"github.com/sluicehq/sluice/pipeline"
)

type devFlags struct {
	file, kafkaAddr, registryAddr, dataDir, httpAddr, logLevel string
	outboxDSN                                                  string
	noPipelines, demo                                          bool
	demoRate                                                   int
}

func (a *app) devCmd() *cobra.Command {
	f := &devFlags{}
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run an embedded Kafka broker and schema registry, push schemas/ and run the pipelines",
		Long: `dev starts an in-process Kafka broker (kfake) and sluice's schema registry
(stored in the broker's _schemas topic) on loopback, registers the schema files
next to the pipelines file, and runs the pipelines. Everything stays on this
machine. With --data-dir the broker keeps its data (and the pipelines their
tables) across restarts; without it everything starts empty.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.dev(cmd.Context(), f)
		},
	}
	addFileFlag(cmd, &f.file)
	cmd.Flags().StringVar(&f.kafkaAddr, "kafka-addr", "127.0.0.1:9092", "address of the embedded broker")
	cmd.Flags().StringVar(&f.registryAddr, "registry-addr", "127.0.0.1:8081", "address of the embedded schema registry")
	cmd.Flags().StringVar(&f.dataDir, "data-dir", "", "keep broker data and tables here across restarts (default: in memory)")
	cmd.Flags().BoolVar(&f.noPipelines, "no-pipelines", false, "serve only the broker and the registry")
	cmd.Flags().BoolVar(&f.demo, "demo", false, "produce realistic UserEvents (with some poison) to the pipelines' input")
	cmd.Flags().IntVar(&f.demoRate, "demo-rate", 50, "demo events per second")
	cmd.Flags().StringVar(&f.httpAddr, "http-addr", "127.0.0.1:8080", "operations endpoints and publish routes (empty: off)")
	cmd.Flags().StringVar(&f.outboxDSN, "outbox-dsn", "", "PostgreSQL DSN of the outbox: relays the file's `outbox:` (default $SLUICE_OUTBOX_DSN, then outbox.dsn; without one the outbox is not available in dev)")
	addLogLevelFlag(cmd, &f.logLevel, "warn")
	return cmd
}

func (a *app) dev(ctx context.Context, f *devFlags) error {
	log, err := a.logger(f.logLevel)
	if err != nil {
		return err
	}
	// Check the configuration before starting anything.
	var cfg *pipeline.Config
	if !f.noPipelines || f.demo {
		if cfg, err = a.loadConfig(f.file); err != nil {
			return err
		}
		// The embedded broker speaks plain text: kafka.tls and kafka.sasl
		// (set by $SLUICE_KAFKA_TLS, $SLUICE_SASL_* for a real cluster) do
		// not apply to it.
		if cfg.Kafka.TLS.Enabled || cfg.Kafka.SASL.Enabled() {
			log.Info("kafka.tls and kafka.sasl do not apply to the embedded broker; ignoring them")
			cfg.Kafka.TLS, cfg.Kafka.SASL = tlsconf.Config{}, kafkaconn.SASL{}
		}
	}
	var demoIn pipeline.Input
	if f.demo {
		if f.demoRate < 1 {
			return usagef("--demo-rate must be at least 1, got %d", f.demoRate)
		}
		if demoIn, err = demoInput(cfg); err != nil {
			return usagef("--demo: %v", err)
		}
	}
	partitions := pipeline.DefaultPartitions
	if cfg != nil {
		partitions = cfg.Kafka.Partitions
	}
	dc := devenv.Config{KafkaAddr: f.kafkaAddr, RegistryAddr: f.registryAddr, Partitions: partitions, Logger: log}
	if f.dataDir != "" {
		dc.DataDir = filepath.Join(f.dataDir, "kafka")
	}
	env, err := devenv.Start(ctx, dc)
	if err != nil {
		return fmt.Errorf("starting dev services: %w", err)
	}
	defer func() {
		if err := env.Close(); err != nil {
			log.Error("stopping dev services", "error", err)
		}
	}()
	brokers := strings.Join(env.Brokers(), ",")
	fmt.Fprintf(a.stdout, "kafka     %s\nregistry  %s\n", brokers, env.RegistryURL())
	if err := a.pushDevSchemas(ctx, f, env.RegistryURL()); err != nil {
		return err
	}
	if f.noPipelines && !f.demo {
		fmt.Fprintf(a.stdout, "serving the broker and the registry only; run pipelines with:\n  SLUICE_BROKERS=%s SLUICE_REGISTRY_URL=%s sluice run -f %s\n", brokers, env.RegistryURL(), f.file)
		<-ctx.Done()
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	if f.demo {
		in := demoIn
		g.Go(func() error {
			return demo.Run(gctx, demo.Config{Brokers: env.Brokers(), RegistryURL: env.RegistryURL(), Topic: in.Topic, Reader: in.Schema, Rate: f.demoRate, Seed: uint64(time.Now().UnixNano())})
		})
		fmt.Fprintf(a.stdout, "demo      producing %d UserEvents/s to %s\n", f.demoRate, in.Topic)
	}
	if !f.noPipelines {
		// The embedded registry is open and plain HTTP: the file's
		// credentials and TLS settings are for another registry.
		cfg.Registry = pipeline.Registry{URL: cfg.Registry.URL, SubjectStrategy: cfg.Registry.SubjectStrategy}
		opts := pipeline.Options{Brokers: env.Brokers(), RegistryURL: env.RegistryURL(), Logger: log}
		if f.dataDir != "" {
			opts.StateDir = filepath.Join(f.dataDir, "state")
		}
		rt, err := pipeline.New(cfg, opts)
		if err != nil {
			return err
		}
		metrics := outbox.NewMetrics()
		dsn := a.flagOrEnv(f.outboxDSN, envOutboxDSN)
		if dsn == "" && cfg.Outbox != nil {
			dsn = cfg.Outbox.DSN
		}
		switch {
		case cfg.Outbox == nil:
		case dsn == "":
			fmt.Fprintf(a.stdout, "outbox    not available in dev: no PostgreSQL DSN (--outbox-dsn or $%s)\n", envOutboxDSN)
		default:
			if err := goOutbox(gctx, g, cfg, env.Brokers(), env.RegistryURL(), dsn, metrics, log); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "outbox    relaying %s\n", cfg.Outbox.Table)
		}
		gw, err := newGateway(cfg, opts.Brokers, opts.RegistryURL, log)
		if err != nil {
			return err
		}
		defer closeGateway(gw, log)
		goSupervisor(gctx, g, rt, f.httpAddr, false, func(addr string) {
			fmt.Fprintf(a.stdout, "ops       http://%s/pipelines  /metrics  /readyz\n", addr)
			if gw != nil {
				for _, p := range gw.Paths() {
					fmt.Fprintf(a.stdout, "publish   POST http://%s%s\n", addr, p)
				}
			}
		}, append(extensions(gw), ops.MetricsOnly(metrics.Collectors()))...)
		g.Go(func() error { return statusLines(gctx, rt, a.stdout) })
	}
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// pushDevSchemas registers the schema files next to the pipelines file.
func (a *app) pushDevSchemas(ctx context.Context, f *devFlags, url string) error {
	sf := &schemasFlags{dir: filepath.Join(filepath.Dir(f.file), "schemas"), file: f.file, registry: url}
	if matches, _ := filepath.Glob(filepath.Join(sf.dir, "*.avsc")); len(matches) == 0 {
		return nil
	}
	_, _, entries, err := a.schemaEntries(sf)
	if err != nil {
		return err
	}
	reg, err := newSchemasRegistry(url) // open: the embedded registry
	if err != nil {
		return err
	}
	return pushSchemas(ctx, reg, entries, io.Discard)
}

// demoInput is the first Avro input whose schema is a UserEvent.
func demoInput(cfg *pipeline.Config) (pipeline.Input, error) {
	for _, p := range cfg.Pipelines {
		if p.Input.Codec == pipeline.CodecAvro && p.Input.Schema != nil && strings.HasSuffix(schemaName(p.Input), "UserEvent") {
			return p.Input, nil
		}
	}
	return pipeline.Input{}, errors.New("no pipeline reads UserEvents (an Avro input whose record is named UserEvent)")
}

func schemaName(in pipeline.Input) string {
	type named interface{ FullName() string }
	if n, ok := in.Schema.(named); ok {
		return n.FullName()
	}
	return ""
}

// statusLines prints one line per pipeline every two seconds: redrawn in
// place on a terminal, appended otherwise (logs, pipes).
func statusLines(ctx context.Context, rt *pipeline.Supervisor, w io.Writer) error {
	live := isTerminal(w)
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	last := map[string]int64{}
	lastAt := time.Now()
	drawn := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		elapsed := time.Since(lastAt).Seconds()
		lastAt = time.Now()
		if live && drawn > 0 {
			fmt.Fprintf(w, "\x1b[%dA", drawn) // back to the first status line
		}
		drawn = 0
		for _, s := range rt.Status(ctx) {
			c := s.Counts
			rate := float64(c.Consumed-last[s.Name]) / elapsed
			last[s.Name] = c.Consumed
			wait := ""
			if c.Waiting {
				wait = "  WAITING for a dependency"
			}
			if live {
				fmt.Fprint(w, "\x1b[2K") // clear the old line
			}
			fmt.Fprintf(w, "%-16s %-10s consumed %7d  processed %7d  filtered %6d  dead-lettered %5d  %6.0f msg/s%s\n",
				s.Name, s.Phase, c.Consumed, c.Processed, c.Filtered, c.DeadLettered, rate, wait)
			drawn++
		}
	}
}
