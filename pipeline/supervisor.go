package pipeline

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/errgroup"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/kafkaconn"
)

// Options are the run-time settings that do not live in pipelines.yaml.
type Options struct {
	// Brokers and RegistryURL override the configuration when set.
	Brokers     []string
	RegistryURL string
	// Only runs the named pipelines (all when empty).
	Only []string
	// InstanceID makes this process a static member of every pipeline's
	// consumer group (group.instance.id, KIP-345). Give each instance its
	// own stable id (a pod name) and keep it across restarts; empty means
	// dynamic membership.
	InstanceID string
	// StateDir keeps goka's tables in LevelDB under StateDir/<group>; empty
	// keeps them in memory (recovered from the changelog at every start).
	StateDir string
	Logger   *slog.Logger
	// Registry replaces the registry client built from RegistryURL (tests).
	Registry codecs.Registry
	// Schemas is the schema cache the configuration was loaded with.
	Schemas *codecs.Schemas
	// RestartBackoff is the pause before a failed processor is restarted.
	RestartBackoff time.Duration
	// CheckInterval is how often a pipeline that is not ready to start (no
	// schema registry, or no subject for its input yet) checks again;
	// default 5s.
	CheckInterval time.Duration
	// LagInterval is how often the lag of every pipeline is read from the
	// group's committed offsets; default 5s.
	LagInterval time.Duration
	// Tracer, when set, gives every message a span and its outputs and dead
	// letters the span's traceparent (tracing.Start makes one from the
	// OTEL_* environment); nil is tracing off, at no cost.
	Tracer trace.Tracer
	// RecoveryLogInterval is how often a pipeline recovering its tables
	// logs its progress; default 5s.
	RecoveryLogInterval time.Duration
}

// Supervisor runs the pipelines of a configuration: it creates their
// topics, registers their output schemas, and runs one goka processor per
// pipeline, rebuilding a processor that fails. Status, Counts and State
// report on them while they run.
type Supervisor struct {
	cfg     *Config
	opts    Options
	brokers []string
	log     *slog.Logger
	client  codecs.Registry
	runs    []*pipelineProcess
	metrics *metrics
}

// pipelineProcess is one pipeline as the supervisor runs it: the handler of
// its messages, and its current goka processor and phase.
type pipelineProcess struct {
	*handler
	// registered are the outputs whose schemas are registered before the
	// pipeline starts (avro, json_schema, protobuf).
	registered []registeredOutput

	mu      sync.Mutex
	proc    *goka.Processor
	phase   string
	lastErr error
	// reason says why a checking pipeline is not ready yet.
	reason string
	// stopProc stops the running processor; fatal is why, when it was
	// stopped for good (see fail).
	stopProc context.CancelFunc
	fatal    error
	// lag is the input's lag as last read, lagErr why the last read failed.
	lag    []PartitionLag
	lagErr error
	// assigned are the input partitions of the last rebalance (rebalanced).
	assigned []int32
}

// holdLogEvery is how often a held message, and the dead letters of a
// pipeline, are logged at most.
const holdLogEvery = 10 * time.Second

// Phases of a pipeline, as /pipelines and /readyz show them.
const (
	PhaseStarting = "starting"
	// PhaseChecking: the pipeline waits for what it needs before it
	// consumes (a schema registry, its input's subject); Status.Reason says
	// what is missing.
	PhaseChecking   = "checking"
	PhaseRecovering = "recovering"
	PhaseRunning    = "running"
	PhaseRestarting = "restarting"
	// PhaseFailed: the pipeline stopped on a failure restarting cannot fix.
	PhaseFailed  = "failed"
	PhaseStopped = "stopped"
)

// New prepares the pipelines of cfg to run. It does no I/O.
func New(cfg *Config, opts Options) (*Supervisor, error) {
	if opts.InstanceID != "" && !validInstanceID(opts.InstanceID) {
		return nil, fmt.Errorf("instance id %q: use at most 249 letters, digits, '.', '_' and '-'", opts.InstanceID)
	}
	sv := &Supervisor{cfg: cfg, opts: opts, log: opts.Logger, metrics: newMetrics()}
	if sv.log == nil {
		sv.log = slog.Default()
	}
	if sv.opts.RestartBackoff == 0 {
		sv.opts.RestartBackoff = 2 * time.Second
	}
	if sv.opts.CheckInterval == 0 {
		sv.opts.CheckInterval = 5 * time.Second
	}
	if sv.opts.LagInterval == 0 {
		sv.opts.LagInterval = 5 * time.Second
	}
	if sv.opts.RecoveryLogInterval == 0 {
		sv.opts.RecoveryLogInterval = 5 * time.Second
	}
	sv.brokers = opts.Brokers
	if len(sv.brokers) == 0 {
		sv.brokers = cfg.Kafka.Brokers
	}
	if len(sv.brokers) == 0 {
		return nil, errors.New("no Kafka brokers: set kafka.brokers, $SLUICE_BROKERS or --brokers")
	}
	if err := CheckBrokers(sv.brokers); err != nil {
		return nil, err
	}
	schemas := opts.Schemas
	if schemas == nil {
		schemas = codecs.NewSchemas()
	}
	sv.client = opts.Registry
	url := opts.RegistryURL
	if url == "" {
		url = cfg.Registry.URL
	}
	// Pipelines with Avro need a registry; stateful ones keep their state
	// schemas in it when there is one.
	if sv.client == nil && (needsRegistry(cfg) || url != "" && anyStateful(cfg)) {
		if url == "" {
			return nil, errors.New("no schema registry: set registry.url, $SLUICE_REGISTRY_URL or --registry")
		}
		client, err := cfg.Registry.Client(url)
		if err != nil {
			return nil, err
		}
		sv.client = client
	}
	selected, err := cfg.Select(opts.Only)
	if err != nil {
		return nil, err
	}
	for _, p := range selected {
		run, err := sv.prepare(p, schemas)
		if err != nil {
			return nil, fmt.Errorf("pipeline %s: %w", p.Name, err)
		}
		sv.runs = append(sv.runs, run)
	}
	return sv, nil
}

// Select returns the named pipelines, or all when names is empty.
func (c *Config) Select(names []string) ([]*Pipeline, error) {
	if len(names) == 0 {
		return c.Pipelines, nil
	}
	var out []*Pipeline
	for _, n := range names {
		p := c.Pipeline(n)
		if p == nil {
			known := make([]string, len(c.Pipelines))
			for i, q := range c.Pipelines {
				known[i] = q.Name
			}
			return nil, fmt.Errorf("no pipeline named %q in %s (pipelines: %v)", n, c.File, known)
		}
		out = append(out, p)
	}
	return out, nil
}

// Pipeline returns the named pipeline or nil.
func (c *Config) Pipeline(name string) *Pipeline {
	for _, p := range c.Pipelines {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func anyStateful(cfg *Config) bool {
	for _, p := range cfg.Pipelines {
		if p.Stateful() {
			return true
		}
	}
	return false
}

func needsRegistry(cfg *Config) bool {
	for _, p := range cfg.Pipelines {
		if p.Input.Registered() {
			return true
		}
		for _, o := range p.Outputs {
			if o.Registered() {
				return true
			}
		}
	}
	return false
}

func (sv *Supervisor) prepare(p *Pipeline, schemas *codecs.Schemas) (*pipelineProcess, error) {
	log := sv.log.With("pipeline", p.Name)
	r := &handler{
		p:            p,
		log:          log,
		outputs:      map[string]encoder{},
		lookupTables: map[string]goka.Table{},
		lookupCodecs: map[string]*tableCodec{},
		stats:        newStats(),
		m:            sv.metrics.forPipeline(p),
		holdLogEvery: holdLogEvery,
		breaker:      newBreaker(p.Breaker, time.Now),
		letters:      newLetterLog(log, holdLogEvery, time.Now),
		inputs:       newInputRecords(),
		limit:        newSizeLimit(nil),
		tracer:       sv.opts.Tracer,
		parts:        newPartitions(0),
	}
	run := &pipelineProcess{handler: r, phase: PhaseStarting}
	in, err := sv.codecFor(p.Input.Endpoint, schemas)
	if err != nil {
		return nil, fmt.Errorf("input codec: %w", err)
	}
	r.decode = in.DecodeContext
	strategy := subjectStrategies[sv.cfg.Registry.SubjectStrategy]
	for _, name := range p.OutputList {
		o := p.Outputs[name]
		c, err := sv.codecFor(o.Endpoint, schemas, codecs.WithSubject(o.Topic, strategy))
		if err != nil {
			return nil, fmt.Errorf("output %s codec: %w", name, err)
		}
		r.outputs[name] = encoder{topic: o.Topic, encode: c.EncodeContext}
		if ro, ok := c.(registeredOutput); ok {
			run.registered = append(run.registered, ro)
		}
	}
	if p.Stateful() {
		if r.table, err = newTableCodec(p.State.Schema); err != nil {
			return nil, err
		}
		r.parts = newPartitions(p.State.CacheEntries)
		r.win = newWindowRuntime(p)
	}
	for _, s := range p.Steps {
		if q := sv.cfg.Pipeline(s.Table); q != nil {
			r.lookupTables[q.Name] = goka.GroupTable(goka.Group(q.Group))
			if r.lookupCodecs[q.Name], err = newTableCodec(q.State.Schema); err != nil {
				return nil, fmt.Errorf("table of pipeline %s: %w", q.Name, err)
			}
		}
	}
	return run, nil
}

// codec reads and writes the values of a pipeline endpoint. Both calls stop
// waiting when ctx ends (only the registered codecs, Avro, JSON Schema and
// Protobuf, ever wait, on the schema registry), so
// a stopping processor never waits on a registry timeout.
type codec interface {
	DecodeContext(ctx context.Context, b []byte) (any, error)
	EncodeContext(ctx context.Context, v any) ([]byte, error)
}

// registeredOutput is an output codec whose schema is registered under a
// subject (the Avro, JSONSchema and Protobuf codecs).
type registeredOutput interface {
	Register(ctx context.Context) (int, error)
	Subject() string
}

// plainCodec adapts a codec that never waits (JSON, string, bytes).
type plainCodec struct{ goka.Codec }

func (c plainCodec) DecodeContext(_ context.Context, b []byte) (any, error) { return c.Decode(b) }
func (c plainCodec) EncodeContext(_ context.Context, v any) ([]byte, error) { return c.Encode(v) }

// codecFor returns the codec of an input or output endpoint; avroOpts
// configure an Avro codec (an output's subject).
func (sv *Supervisor) codecFor(e Endpoint, schemas *codecs.Schemas, avroOpts ...codecs.AvroOption) (codec, error) {
	switch e.Codec {
	case CodecAvro:
		c, err := codecs.NewAvro(sv.client, schemas, e.Schema, append(slices.Clip(avroOpts), codecs.WithStats(sv.metrics))...)
		if err != nil {
			return nil, err
		}
		return c, nil
	case CodecJSONSchema, CodecProtobuf:
		client, ok := sv.client.(codecs.TypedRegistry)
		if !ok {
			return nil, fmt.Errorf("the registry client %T cannot register %s schemas", sv.client, e.SchemaType())
		}
		opts := append(slices.Clip(avroOpts), codecs.WithStats(sv.metrics))
		if e.Codec == CodecProtobuf {
			c, err := codecs.NewProtobuf(client, e.Proto, opts...)
			if err != nil {
				return nil, err
			}
			return c, nil
		}
		c, err := codecs.NewJSONSchema(client, e.JSONSchema, opts...)
		if err != nil {
			return nil, err
		}
		return c, nil
	case CodecJSON:
		return plainCodec{codecs.JSON{}}, nil
	case CodecString:
		return plainCodec{codecs.String{}}, nil
	default:
		return plainCodec{codecs.Bytes{}}, nil
	}
}

// conn is how the supervisor's clients connect: the brokers, the client id
// with suffix, and kafka.tls and kafka.sasl.
func (sv *Supervisor) conn(suffix string) kafkaconn.Config {
	return sv.cfg.Kafka.Conn(sv.brokers, sv.cfg.Kafka.ClientID+suffix)
}

// Run creates missing topics and runs every pipeline until ctx is cancelled
// or one fails beyond repair. Each pipeline first waits until what it needs
// besides Kafka is there (see await), then runs its processor. A processor
// that stops with an error (a broker outage, a failed write) is restarted
// after a pause; the messages it had not committed are redelivered. A
// failure restarting cannot fix (an unusable state folder, an instance id
// another process took) ends Run with an error.
func (sv *Supervisor) Run(ctx context.Context) error {
	if sv.opts.StateDir != "" {
		for _, run := range sv.runs {
			if err := checkStateDir(sv.stateDir(run.p)); err != nil {
				return fmt.Errorf("pipeline %s: %w", run.p.Name, err)
			}
		}
	}
	adm, err := sv.conn("-setup").Dial(ctx)
	if err != nil {
		return err
	}
	ps := make([]*Pipeline, len(sv.runs))
	for i, run := range sv.runs {
		ps[i] = run.p
	}
	tp := &topics{adm: adm, k: sv.cfg.Kafka, log: sv.log}
	counts, err := tp.ensure(ctx, ps, sv.cfg.Pipelines)
	if err == nil {
		err = sv.readSizeLimits(ctx, tp)
	}
	adm.Close()
	if err != nil {
		return err
	}
	hashers := make([]func() hash.Hash32, len(sv.runs))
	for i, run := range sv.runs {
		if hashers[i], err = Hasher(sv.cfg.Kafka.Partitioner, counts[run.p.Input.Topic]); err != nil {
			return err
		}
	}
	lags, err := newLagReader(sv.conn("-lag"))
	if err != nil {
		return err
	}
	defer lags.close()
	g, gctx := errgroup.WithContext(ctx)
	for i, run := range sv.runs {
		g.Go(func() error { return sv.supervise(gctx, run, hashers[i]) })
	}
	// The chores stop when the pipelines do, whether ctx ended or one failed.
	choresCtx, stopChores := context.WithCancel(gctx)
	chores := make(chan struct{})
	go func() {
		defer close(chores)
		sv.chores(choresCtx, lags)
	}()
	err = g.Wait()
	stopChores()
	<-chores
	return err
}

// readSizeLimits sets each pipeline's record size limit from its target
// topics' max.message.bytes.
func (sv *Supervisor) readSizeLimits(ctx context.Context, tp *topics) error {
	for _, run := range sv.runs {
		limits, err := tp.maxMessageBytes(ctx, targetTopics(run.p))
		if err != nil {
			return fmt.Errorf("pipeline %s: %w", run.p.Name, err)
		}
		run.limit = newSizeLimit(limits)
		sv.log.Debug("record size limit", "pipeline", run.p.Name, "bytes", run.limit.bytes, "topic", run.limit.topic, "max.message.bytes", run.limit.max)
	}
	return nil
}

// chores refreshes every pipeline's lag, writes the dead-letter counts not
// logged yet and logs the progress of table recoveries, on tickers, until
// ctx ends.
func (sv *Supervisor) chores(ctx context.Context, lags *lagReader) {
	lagTick := time.NewTicker(sv.opts.LagInterval)
	defer lagTick.Stop()
	recoveryTick := time.NewTicker(sv.opts.RecoveryLogInterval)
	defer recoveryTick.Stop()
	recovering := map[*pipelineProcess]recoverySample{}
	logTick := time.NewTicker(holdLogEvery)
	defer logTick.Stop()
	flush := func() {
		for _, run := range sv.runs {
			run.letters.flush()
		}
	}
	defer flush()
	sv.refreshLag(ctx, lags)
	for {
		select {
		case <-ctx.Done():
			return
		case <-lagTick.C:
			sv.refreshLag(ctx, lags)
		case <-logTick.C:
			flush()
		case <-recoveryTick.C:
			sv.logRecovery(ctx, recovering)
		}
	}
}

// supervise runs the pipeline's processor once it is ready to, and restarts
// it when it fails.
func (sv *Supervisor) supervise(ctx context.Context, run *pipelineProcess, hasher func() hash.Hash32) error {
	defer func() {
		run.setPhase(PhaseStopped, nil)
		run.log.Info("pipeline stopped")
	}()
	if err := sv.await(ctx, run); err != nil || ctx.Err() != nil {
		if err != nil {
			run.setPhase(PhaseFailed, err)
			sv.log.Error("pipeline cannot start: stopping sluice", "pipeline", run.p.Name, "error", err)
		}
		return err
	}
	started := false
	for {
		proc, err := sv.processor(run, hasher)
		if err == nil && started {
			// A reset or a recreated input may have come in between.
			err = sv.reloadHistory(ctx, run)
		}
		switch {
		case err != nil && !started:
			return fmt.Errorf("pipeline %s: %w", run.p.Name, err)
		case err != nil:
			// It ran before, so the configuration is good: the broker is
			// still away (goka's clients cannot connect). Keep trying.
		default:
			started = true
			err = run.runProcessor(ctx, proc)
		}
		if ctx.Err() != nil {
			return nil
		}
		if permanent(err) {
			if errors.Is(err, sarama.ErrFencedInstancedId) && !errors.Is(err, ErrFenced) {
				err = sv.fenced(run.p, err) // fenced on joining
			}
			run.setPhase(PhaseFailed, err)
			sv.log.Error("pipeline failed and cannot recover by restarting: stopping sluice", "pipeline", run.p.Name, "error", err)
			return fmt.Errorf("pipeline %s: %w", run.p.Name, err)
		}
		run.setPhase(PhaseRestarting, err)
		sv.log.Error("pipeline stopped, restarting", "pipeline", run.p.Name, "error", err, "in", sv.opts.RestartBackoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(sv.opts.RestartBackoff):
		}
	}
}

// runProcessor runs proc until it stops, and returns why: its error, or
// the failure fail stopped it for.
func (run *pipelineProcess) runProcessor(ctx context.Context, proc *goka.Processor) error {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	run.mu.Lock()
	run.proc, run.phase, run.stopProc, run.fatal = proc, PhaseRecovering, cancel, nil
	run.mu.Unlock()
	run.log.Info("pipeline starting", "group", run.p.Group, "input", run.p.Input.Topic, "stateful", run.p.Stateful())
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		run.watchLifecycle(ctx, pctx, proc)
	}()
	err := proc.Run(pctx)
	cancel()
	<-watched
	run.mu.Lock()
	defer run.mu.Unlock()
	run.stopProc = nil
	if run.fatal != nil {
		return run.fatal
	}
	return err
}

// fail stops the running processor for good with err (the first reason
// wins); its goka clients call it from their own goroutines.
func (run *pipelineProcess) fail(err error) {
	run.mu.Lock()
	defer run.mu.Unlock()
	if run.fatal == nil {
		run.fatal = err
	}
	if run.stopProc != nil {
		run.stopProc()
	}
}

func (run *pipelineProcess) setPhase(phase string, err error) {
	run.mu.Lock()
	run.phase = phase
	if err != nil {
		run.lastErr = err
	}
	run.mu.Unlock()
}

func validInstanceID(id string) bool {
	return len(id) <= 249 && namePattern.MatchString(id)
}
