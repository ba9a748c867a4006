// Package devenv runs the embedded development services in process: a kfake
// Kafka broker and sluice's schema registry stored in that broker's
// `_schemas` topic. `sluice dev` and the integration tests (through
// internal/testkit) use it.
//
// It owns the embedded services only and must not import pipeline, the CLI or
// goka; nor does it import testing (tests reach it through internal/testkit).
// The rules are checked by TestImportRules (arch_test.go).
package devenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/tlsconf"
	"github.com/sluicehq/sluice/registry"
)

// SchemasTopic is the topic the embedded registry stores its schemas in.
const SchemasTopic = "_schemas"

// Config configures Start. The zero value runs an in-memory broker and the
// registry on random loopback ports.
type Config struct {
	// KafkaAddr is where the broker listens, e.g. "127.0.0.1:9092". The
	// broker always binds 127.0.0.1; the host may be empty, "127.0.0.1" or
	// "localhost". Port 0 (or an empty address) picks a random port.
	KafkaAddr string
	// RegistryAddr is where the schema registry listens, e.g.
	// "127.0.0.1:8081". Empty means "127.0.0.1:0" (random port).
	RegistryAddr string
	// DataDir persists the broker's topics (and so the registry's schemas)
	// across restarts. Empty keeps everything in memory.
	DataDir string
	// Partitions is the partition count of auto-created topics; 0 keeps
	// kfake's default (10).
	Partitions int
	// Logger receives the services' logs; nil discards them.
	Logger *slog.Logger
	// Brokers, when set, is an existing Kafka cluster to use instead of
	// the embedded broker: only the registry runs, storing its schemas in a
	// fresh `_schemas-<random>` topic that Close deletes, so that runs
	// sharing the cluster never see each other's schemas. KafkaAddr,
	// DataDir and Partitions configure the embedded broker and must then be
	// unset.
	Brokers []string
	// TLS and SASL secure the connections to the Brokers cluster.
	TLS  tlsconf.Config
	SASL kafkaconn.SASL
}

// Env is a running set of dev services. Close stops them.
type Env struct {
	cluster  *kfake.Cluster // nil when the broker is external (Config.Brokers)
	brokers  []string
	regURL   string
	cancel   context.CancelFunc
	serveErr chan error // receives ListenAndServe's result once
	cleanup  func() error

	closeOnce sync.Once
	closeErr  error
}

// Start starts a kfake broker (unless cfg.Brokers names a cluster) and the
// schema registry on it, and returns once both accept connections. ctx bounds the start only; the services run until
// Close.
func Start(ctx context.Context, cfg Config) (*Env, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TLS.Enabled || cfg.SASL.Enabled() {
		if len(cfg.Brokers) == 0 {
			return nil, errors.New("TLS and SASL secure the connections to Brokers; the embedded broker speaks plain text")
		}
	}
	if len(cfg.Brokers) > 0 {
		if cfg.KafkaAddr != "" || cfg.DataDir != "" || cfg.Partitions != 0 {
			return nil, errors.New("KafkaAddr, DataDir and Partitions configure the embedded broker and cannot be set with Brokers")
		}
		conn := kafkaconn.Config{Brokers: cfg.Brokers, TLS: cfg.TLS, SASL: cfg.SASL}
		return startExternal(ctx, conn, cfg.RegistryAddr, logger)
	}
	opts, err := kfakeOpts(cfg, logger)
	if err != nil {
		return nil, err
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("starting kafka broker on %s: %w", cfg.KafkaAddr, err)
	}
	brokers := cluster.ListenAddrs()
	logger.Info("kafka broker listening", "addr", brokers[0], "data_dir", cfg.DataDir)

	st, err := registry.NewKafkaStore(ctx, registry.KafkaStoreConfig{
		Brokers: brokers, Topic: SchemasTopic, ReplicationFactor: 1,
		Logger: logger.With("component", "schema-store"),
	})
	if err != nil {
		cluster.Close()
		return nil, fmt.Errorf("opening schema store: %w", err)
	}
	env, err := startRegistry(ctx, st, cfg.RegistryAddr, logger)
	if err != nil {
		cluster.Close()
		return nil, errors.Join(err, st.Close())
	}
	env.cluster = cluster
	env.brokers = brokers
	env.cleanup = func() error {
		err := st.Close()
		cluster.Close()
		if err != nil {
			return fmt.Errorf("closing schema store: %w", err)
		}
		return nil
	}
	return env, nil
}

// kfakeOpts translates cfg into kfake options.
func kfakeOpts(cfg Config, logger *slog.Logger) ([]kfake.Opt, error) {
	port, err := loopbackPort(cfg.KafkaAddr)
	if err != nil {
		return nil, fmt.Errorf("kafka address %q: %w", cfg.KafkaAddr, err)
	}
	if cfg.Partitions < 0 {
		return nil, fmt.Errorf("partitions must be >= 0, got %d", cfg.Partitions)
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.AllowAutoTopicCreation(),
		kfake.WithLogger(slogAdapter{logger}),
	}
	if cfg.Partitions > 0 {
		opts = append(opts, kfake.DefaultNumPartitions(cfg.Partitions))
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	return opts, nil
}

// loopbackPort returns the port of a loopback host:port ("" means port 0).
func loopbackPort(addr string) (int, error) {
	if addr == "" {
		return 0, nil
	}
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	switch host {
	case "", "127.0.0.1", "localhost":
	default:
		return 0, fmt.Errorf("the embedded broker binds 127.0.0.1 only, not %q", host)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return 0, fmt.Errorf("invalid port %q", p)
	}
	return port, nil
}

// startRegistry serves the registry on addr in a goroutine owned by the
// returned Env, and waits until it listens.
func startRegistry(ctx context.Context, st registry.Store, addr string, logger *slog.Logger) (*Env, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ready := make(chan net.Addr, 1)
	serveErr := make(chan error, 1)
	srv := registry.NewServer(st, registry.WithLogger(logger.With("component", "registry")))
	go func() {
		serveErr <- registry.ListenAndServe(runCtx, addr, srv, func(a net.Addr) { ready <- a })
	}()
	fail := func(err error) (*Env, error) {
		cancel()
		<-serveErr
		return nil, err
	}
	select {
	case a := <-ready:
		url := "http://" + a.String()
		logger.Info("schema registry listening", "url", url)
		return &Env{regURL: url, cancel: cancel, serveErr: serveErr}, nil
	case err := <-serveErr:
		serveErr <- err // fail waits on it
		return fail(fmt.Errorf("starting schema registry on %s: %w", addr, err))
	case <-ctx.Done():
		return fail(fmt.Errorf("starting schema registry: %w", ctx.Err()))
	}
}

// Brokers returns the broker addresses to bootstrap from.
func (e *Env) Brokers() []string { return append([]string(nil), e.brokers...) }

// RegistryURL returns the schema registry's base URL, e.g.
// "http://127.0.0.1:8081".
func (e *Env) RegistryURL() string { return e.regURL }

// Cluster returns the embedded kfake cluster (to compact, inject faults,
// ...), or nil when the Env runs against an external broker.
func (e *Env) Cluster() *kfake.Cluster { return e.cluster }

// Close stops the registry gracefully, then closes its store and shuts the
// broker down (persisting it when DataDir is set). It waits for every goroutine the
// Env started and is safe to call more than once.
func (e *Env) Close() error {
	e.closeOnce.Do(func() {
		e.cancel()
		var errs []error
		if err := <-e.serveErr; err != nil && !errors.Is(err, context.Canceled) &&
			!errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("schema registry: %w", err))
		}
		if e.cleanup != nil {
			if err := e.cleanup(); err != nil {
				errs = append(errs, err)
			}
		}
		e.closeErr = errors.Join(errs...)
	})
	return e.closeErr
}
