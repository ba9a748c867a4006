package pipeline

import (
	"fmt"
	"hash"
	"log/slog"
	"path/filepath"
	"sort"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"

	"github.com/sluicehq/sluice/codecs"
)

// processor builds the goka processor of one pipeline.
func (sv *Supervisor) processor(run *pipelineProcess, hasher func() hash.Hash32) (*goka.Processor, error) {
	p := run.p
	scfg, err := saramaConfig(sv.cfg.Kafka, sv.conn("-"+p.Name))
	if err != nil {
		return nil, err
	}
	// Static membership (KIP-345): a restarted instance with the same id
	// takes its place back at once instead of waiting for its old session
	// to expire, and a restart triggers no rebalance.
	scfg.Consumer.Group.InstanceId = sv.opts.InstanceID
	scfg.Producer.MaxMessageBytes = run.limit.producerMax()
	graph := sv.groupGraph(run)
	if err := graph.Validate(); err != nil {
		return nil, fmt.Errorf("invalid processor graph: %w", err)
	}
	if sv.opts.InstanceID == "" && len(graph.InputStreams()) == 1 && graph.LoopStream() == nil {
		// Dynamic members are balanced sticky: at a membership change every
		// member keeps the partitions it had where it can, so their kept
		// tables need no replay (goka's copartitioning strategy, a range
		// over member ids, which are random, moves nearly all of them). Goka
		// checks that the partitions of all its input topics match, which
		// one input topic always does. Copartitioning stays in the list for
		// instances of an older sluice in the same group during an upgrade.
		// Static members keep copartitioning alone: sticky's subscription
		// changes at every generation, so a restarted static member would
		// no longer be taken back without a rebalance.
		scfg.Consumer.Group.Rebalance.Strategy = nil
		scfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategySticky(), goka.CopartitioningStrategy}
	}
	// In memory, each partition's table is kept between group sessions, so
	// that a rebalance costs only the changelog written meanwhile.
	store := newWarmStores(string(goka.GroupTable(goka.Group(p.Group))), run.log).build
	if sv.opts.StateDir != "" {
		store = failingStorage(sv.stateDir(p), run.fail)
	}
	if run.win != nil {
		store = run.win.trackStores(string(goka.GroupTable(goka.Group(p.Group))), store)
	}
	groups := consumerGroupBuilder(scfg)
	if sv.opts.InstanceID != "" {
		build := groups
		groups = func(brokers []string, group, clientID string) (sarama.ConsumerGroup, error) {
			cg, err := build(brokers, group, clientID)
			if err != nil {
				return nil, err
			}
			return watchFencing(cg, func(err error) { run.fail(sv.fenced(p, err)) }), nil
		}
	}
	return goka.NewProcessor(sv.brokers, graph,
		goka.WithConsumerGroupBuilder(run.consumerGroupBuilder(sessionLoopBuilder(groups))),
		goka.WithConsumerSaramaBuilder(saramaConsumerBuilder(scfg)),
		goka.WithProducerBuilder(run.producerBuilder(producerBuilder(scfg))),
		goka.WithTopicManagerBuilder(goka.TopicManagerBuilderWithConfig(scfg, topicManagerConfig(sv.cfg.Kafka))),
		goka.WithStorageBuilder(store),
		goka.WithHasher(hasher),
		goka.WithNilHandling(goka.NilProcess),
		goka.WithLogger(gokaLogger{sv.log.With("pipeline", p.Name, "component", "goka")}),
		goka.WithClientID(sv.cfg.Kafka.ClientID+"-"+p.Name),
		goka.WithRebalanceCallback(run.rebalanced),
	)
}

// consumerGroupBuilder and saramaConsumerBuilder are goka's builders with
// config, each client getting a copy of cfg: goka's own set the shared
// config's ClientID at every call, while the clients already built from it
// read it (a data race the race detector finds when a lookup table's
// consumer runs as the consumer group is built).
func consumerGroupBuilder(cfg *sarama.Config) goka.ConsumerGroupBuilder {
	return func(brokers []string, group, clientID string) (sarama.ConsumerGroup, error) {
		c := *cfg
		return goka.ConsumerGroupBuilderWithConfig(&c)(brokers, group, clientID)
	}
}

func saramaConsumerBuilder(cfg *sarama.Config) goka.SaramaConsumerBuilder {
	return func(brokers []string, clientID string) (sarama.Consumer, error) {
		c := *cfg
		return goka.SaramaConsumerBuilderWithConfig(&c)(brokers, clientID)
	}
}

// stateDir is where the tables of pipeline p are kept (StateDir/<group>).
func (sv *Supervisor) stateDir(p *Pipeline) string {
	return filepath.Join(sv.opts.StateDir, p.Group)
}

// fenced is the permanent error of pipeline p whose instance id the broker
// fenced with err.
func (sv *Supervisor) fenced(p *Pipeline, err error) error {
	return &permanentError{fmt.Errorf("%w: the broker fenced instance id %q in group %s because another live process joined with the same --instance-id; "+
		"stopping instead of rejoining, which would fence that process in turn (give every instance its own id): %w", ErrFenced, sv.opts.InstanceID, p.Group, err)}
}

// groupGraph is the goka graph of one pipeline: the input with a
// pass-through codec (decoding happens in the callback so that poison is
// dead-lettered instead of stopping the processor), the outputs and the
// dead-letter topic as bytes, the group table and the looked-up tables.
func (sv *Supervisor) groupGraph(run *pipelineProcess) *goka.GroupGraph {
	p := run.p
	edges := []goka.Edge{goka.Input(goka.Stream(p.Input.Topic), new(codecs.Bytes), run.callback)}
	seen := map[string]bool{}
	topics := []string{p.DeadLetter}
	for _, name := range p.OutputList {
		topics = append(topics, p.Outputs[name].Topic)
	}
	for _, t := range topics {
		if !seen[t] {
			seen[t] = true
			edges = append(edges, goka.Output(goka.Stream(t), new(codecs.Bytes)))
		}
	}
	if p.Stateful() {
		edges = append(edges, goka.Persist(run.table))
	}
	if run.win != nil {
		// Loopbacks to the keys whose windows close (see windows.go).
		edges = append(edges, goka.Loop(new(codecs.Bytes), run.loopCallback))
	}
	names := make([]string, 0, len(run.lookupTables))
	for name := range run.lookupTables {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		edges = append(edges, goka.Lookup(run.lookupTables[name], run.lookupCodecs[name]))
	}
	return goka.DefineGroup(goka.Group(p.Group), edges...)
}

// gokaLogger sends goka's chatter to slog at debug level.
type gokaLogger struct{ log *slog.Logger }

func (l gokaLogger) Print(args ...any)                 { l.log.Debug(fmt.Sprint(args...)) }
func (l gokaLogger) Println(args ...any)               { l.log.Debug(fmt.Sprint(args...)) }
func (l gokaLogger) Printf(format string, args ...any) { l.log.Debug(fmt.Sprintf(format, args...)) }

// rebalanced logs the partitions this instance owns after a rebalance, and
// those it gave up.
func (run *pipelineProcess) rebalanced(a goka.Assignment) {
	parts := make([]int32, 0, len(a))
	for p := range a {
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	run.mu.Lock()
	var revoked []int32
	for _, p := range run.assigned {
		if _, kept := a[p]; !kept {
			revoked = append(revoked, p)
		}
	}
	run.assigned = parts
	run.mu.Unlock()
	if len(revoked) > 0 {
		run.log.Info("partitions revoked", "topic", run.p.Input.Topic, "partitions", revoked)
	}
	run.log.Info("partitions assigned", "topic", run.p.Input.Topic, "partitions", parts)
}
