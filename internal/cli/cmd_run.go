package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel"
	"golang.org/x/sync/errgroup"

	"github.com/sluicehq/sluice/internal/ops"
	"github.com/sluicehq/sluice/internal/tracing"
	"github.com/sluicehq/sluice/outbox"
	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/processors/config"
)

type runFlags struct {
	file         string
	only         []string
	brokers      string
	registry     string
	stateDir     string
	instance     string
	instanceHost bool
	httpAddr     string
	pprof        bool
	logLevel     string
	regAuth      registryAuthFlags
}

// envInstanceID names the environment variable of run's --instance-id.
const envInstanceID = "SLUICE_INSTANCE_ID"

func (a *app) runCmd() *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the pipelines of a pipelines file against Kafka",
		Long: `Run consumes each pipeline's input, runs its steps, and writes outputs and
dead letters until SIGINT or SIGTERM, then finishes the messages in flight,
commits and exits 0. Missing output and dead-letter topics are created first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd.Context(), f)
		},
	}
	addFileFlag(cmd, &f.file)
	cmd.Flags().StringArrayVar(&f.only, "pipeline", nil, "run only this pipeline (repeatable)")
	cmd.Flags().StringVar(&f.brokers, "brokers", "", "Kafka brokers, comma-separated (default $SLUICE_BROKERS, then kafka.brokers)")
	cmd.Flags().StringVar(&f.registry, "registry", "", "schema registry URL (default $SLUICE_REGISTRY_URL, then registry.url)")
	addRegistryAuthFlags(cmd.Flags(), &f.regAuth)
	cmd.Flags().StringVar(&f.stateDir, "state-dir", "", "keep group tables in LevelDB under this folder (default: in memory, recovered from Kafka at start)")
	cmd.Flags().StringVar(&f.instance, "instance-id", "", "static group membership: this instance's stable id, kept across restarts (default $SLUICE_INSTANCE_ID; empty: dynamic)")
	cmd.Flags().BoolVar(&f.instanceHost, "instance-id-from-hostname", false, "static group membership with the host name as the instance id, when neither --instance-id nor $SLUICE_INSTANCE_ID is set (only where host names are stable: a StatefulSet pod's, a compose service's hostname:)")
	cmd.Flags().StringVar(&f.httpAddr, "http-addr", "", "serve /metrics, /healthz, /readyz, /pipelines and the publish routes on this address (off when empty)")
	cmd.Flags().BoolVar(&f.pprof, "pprof", false, "also serve Go's CPU, heap, block, mutex and goroutine profiles and execution traces under /debug/pprof/ on --http-addr (turns the block and mutex profiles on, at a small cost)")
	addLogLevelFlag(cmd, &f.logLevel, "info")
	registerCompletions(cmd, map[string]cobra.CompletionFunc{"pipeline": a.completePipelines(&f.file)})
	return cmd
}

func (a *app) run(ctx context.Context, f *runFlags) error {
	log, err := a.logger(f.logLevel)
	if err != nil {
		return err
	}
	cfg, err := a.loadConfig(f.file)
	if err != nil {
		return err
	}
	f.regAuth.resolve(a.getenv)
	if err := f.regAuth.apply(&cfg.Registry); err != nil {
		return err
	}
	if f.pprof && f.httpAddr == "" {
		return usagef("--pprof serves the profiles on the operations endpoints: set --http-addr too")
	}
	instance, from, err := instanceID(f.instance, a.getenv(envInstanceID), f.instanceHost, os.Hostname)
	if err != nil {
		return err
	}
	tp, err := startTracing(ctx, log)
	if err != nil {
		return usagef("%v", err)
	}
	defer stopTracing(tp, log)
	opts := pipeline.Options{
		Brokers:     config.SplitList(a.flagOrEnv(f.brokers, envBrokers)),
		RegistryURL: a.flagOrEnv(f.registry, envRegistryURL),
		Only:        f.only,
		StateDir:    f.stateDir,
		InstanceID:  instance,
		Logger:      log,
		Tracer:      tp.Tracer(),
	}
	rt, err := pipeline.New(cfg, opts)
	if err != nil {
		return usagef("%v", err)
	}
	gw, err := newGateway(cfg, opts.Brokers, opts.RegistryURL, log)
	if err != nil {
		return usagef("%v", err)
	}
	defer closeGateway(gw, log)
	if gw != nil && f.httpAddr == "" {
		log.Warn("publish routes are declared but --http-addr is empty: not serving them", "routes", gw.Paths())
	}
	if instance == "" {
		log.Info("starting", "pipelines", rt.Names(), "file", f.file, "membership", "dynamic")
	} else {
		log.Info("starting", "pipelines", rt.Names(), "file", f.file, "membership", "static", "instance_id", instance, "instance_id_from", from)
	}
	g, gctx := errgroup.WithContext(ctx)
	metrics := outbox.NewMetrics()
	if err := goOutbox(gctx, g, cfg, opts.Brokers, opts.RegistryURL, a.getenv(envOutboxDSN), metrics, log); err != nil {
		return usagef("%v", err)
	}
	goSupervisor(gctx, g, rt, f.httpAddr, f.pprof, func(addr string) {
		log.Info("serving operations endpoints", "addr", addr)
		if gw != nil {
			log.Info("serving publish routes", "addr", addr, "routes", gw.Paths())
		}
	}, append(extensions(gw), ops.MetricsOnly(metrics.Collectors()))...)
	if err := g.Wait(); err != nil {
		return fmt.Errorf("running pipelines: %w", err)
	}
	log.Info("stopped")
	return nil
}

// instanceID returns run's static-membership id and where it came from: the
// --instance-id flag, else $SLUICE_INSTANCE_ID, else the host name when
// fromHostname is set; empty means dynamic membership.
func instanceID(flag, env string, fromHostname bool, hostname func() (string, error)) (id, from string, err error) {
	switch {
	case flag != "":
		return flag, "--instance-id", nil
	case env != "":
		return env, "$" + envInstanceID, nil
	case fromHostname:
		h, err := hostname()
		if err != nil {
			return "", "", fmt.Errorf("--instance-id-from-hostname: reading the host name: %w", err)
		}
		if h == "" {
			return "", "", errors.New("--instance-id-from-hostname: the host name is empty")
		}
		return h, "the host name", nil
	}
	return "", "", nil
}

// goSupervisor runs the supervisor rt in g and, when httpAddr is set, its operations
// endpoints with exts beside them (and Go's profiles when profiling is set), which
// stop when rt does; serving is told their address.
func goSupervisor(ctx context.Context, g *errgroup.Group, rt *pipeline.Supervisor, httpAddr string, profiling bool, serving func(addr string), exts ...ops.Extension) {
	opsCtx, stopOps := context.WithCancel(ctx)
	g.Go(func() error {
		defer stopOps()
		return rt.Run(ctx)
	})
	if httpAddr != "" {
		h := ops.Handler(rt, exts...)
		if profiling {
			h = ops.WithProfiling(h)
		}
		g.Go(func() error { return ops.Serve(opsCtx, httpAddr, h, serving) })
	}
}

// tracingFlushTimeout bounds how long a stopping run waits for the trace
// collector to take the spans still batched.
const tracingFlushTimeout = 10 * time.Second

// startTracing turns OpenTelemetry tracing on when the OTEL_* environment
// says so (nil, off, otherwise). OpenTelemetry's own errors (a collector
// that cannot be reached) are logged as warnings.
func startTracing(ctx context.Context, log *slog.Logger) (*tracing.Provider, error) {
	tp, err := tracing.Start(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	if tp != nil {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			log.Warn("tracing", "error", err)
		}))
		log.Info("tracing on: exporting spans over OTLP", "protocol", tp.Protocol(), "service", tp.ServiceName())
	}
	return tp, nil
}

// stopTracing flushes the spans still batched; it runs after the pipelines
// stopped, so every span has ended.
func stopTracing(tp *tracing.Provider, log *slog.Logger) {
	if tp == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), tracingFlushTimeout)
	defer cancel()
	if err := tp.Shutdown(ctx); err != nil {
		log.Warn("tracing: spans lost at shutdown", "error", err)
	}
}
