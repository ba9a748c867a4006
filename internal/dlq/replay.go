package dlq

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/render"
)

// ErrInterrupted is returned (wrapping the context's error) when ctx ends a
// replay before it caught up; what was committed stays committed and a new
// Replay with the same group resumes after it.
var ErrInterrupted = errors.New("replay interrupted")

// ErrNoSourceTopic is returned for a dead letter without a
// sluice.source.topic header when no target topic is set.
var ErrNoSourceTopic = errors.New("no " + deadletter.HeaderSourceTopic + " header")

// endTimeout bounds ending a transaction, which runs even after ctx is done
// so that an interrupted replay aborts cleanly.
const endTimeout = 30 * time.Second

// DefaultGroup returns the consumer group and transactional id Replay uses
// for topic without a filter, unless WithGroup says otherwise.
func DefaultGroup(topic string) string { return "sluice-dlq-replay-" + topic }

// FilterGroup returns the consumer group and transactional id Replay uses
// for topic with filter (its source text), unless WithGroup says otherwise:
// each filter keeps its own progress, so the letters one filter skips are
// still there for a run with another filter.
func FilterGroup(topic, filter string) string {
	sum := sha256.Sum256([]byte(filter))
	return DefaultGroup(topic) + "-f" + hex.EncodeToString(sum[:6])
}

// DefaultMaxReplays is how many times a letter may have been replayed before
// Replay refuses it (WithMaxReplays).
const DefaultMaxReplays = 3

// Planned is a record a dry run would publish.
type Planned struct {
	Letter Letter
	// Record is the record Replay would publish. Its Partition is the
	// source partition, kept when the target topic has it (else the key
	// places the record); -1 when the dead letter does not say.
	Record *kgo.Record
}

// ReplayStats counts what Replay did (or, in a dry run, would do).
type ReplayStats struct {
	Replayed int
	Skipped  int // not matched by the filter; done for this filter's group
	// Refused counts letters matched by the filter whose replay count had
	// reached the maximum (WithMaxReplays); done for this group too.
	Refused int
	Topics  map[string]int // replayed records per target topic
}

func (s *ReplayStats) add(o ReplayStats) {
	s.Replayed += o.Replayed
	s.Skipped += o.Skipped
	s.Refused += o.Refused
	for t, n := range o.Topics {
		if s.Topics == nil {
			s.Topics = map[string]int{}
		}
		s.Topics[t] += n
	}
}

// Replay republishes the dead letters of topic: each one's original key and
// value bytes unchanged, to the target topic (WithTarget) or else to the
// topic its sluice.source.topic header names, with the original non-sluice
// headers, sluice.replay.count incremented and sluice.replay.pipeline set
// (see Letter.ReplayRecord). A letter whose value was left out (oversize) is
// replayed from its source record. Dead letters the filter does not match
// are skipped, and letters replayed too often already are refused; both are
// committed as done in the replay's group, which is per filter by default
// (FilterGroup), so another filter still finds what this one skipped.
//
// It reads from the group's committed offsets (the earliest offset without
// one) up to the end offsets observed when it starts, so it never chases
// records written after it began, such as dead letters of the replayed
// records themselves. Each batch is one Kafka transaction that carries both
// the published records and the group's new offsets: a replay that is
// interrupted (ctx) or killed resumes with the next Replay in the same group
// without publishing anything twice, for readers that read committed.
func Replay(ctx context.Context, topic string, opts ...Option) (ReplayStats, error) {
	c := newConfig(opts)
	group := c.group
	switch {
	case group != "":
	case c.filter != nil:
		group = FilterGroup(topic, c.filter.String())
	default:
		group = DefaultGroup(topic)
	}
	if c.rate < 0 {
		return ReplayStats{}, fmt.Errorf("rate must be >= 0, got %v", c.rate)
	}
	if c.maxReplays < 0 {
		return ReplayStats{}, fmt.Errorf("max replays must be >= 0, got %d", c.maxReplays)
	}
	sp, err := c.readSpan(ctx, topic, group, false)
	if err != nil {
		return ReplayStats{}, err
	}
	if c.dryRun != nil {
		return c.planReplay(ctx, topic, sp)
	}
	r := &replayer{c: &c, topic: topic, group: group, span: sp, open: sp.open(),
		pos: make(offsets, len(sp.start)), limiter: newLimiter(c.rate)}
	for p, o := range sp.start {
		r.pos[p] = o
	}
	return r.run(ctx)
}

// verdict is what Replay does with a dead letter.
type verdict int

const (
	replay verdict = iota
	skip           // the filter does not match it
	refuse         // replayed too often already
)

// plan returns what to do with l and, to replay it, the record that does.
func (c *config) plan(ctx context.Context, l *Letter) (*kgo.Record, verdict, error) {
	if c.filter != nil {
		var v render.Value
		if c.filter.UsesValue() {
			v = c.decoder(l.Record.Value)
		}
		ok, err := c.filter.Match(l.Env(v))
		if err != nil {
			return nil, skip, err
		}
		if !ok {
			return nil, skip, nil
		}
	}
	if c.maxReplays > 0 && l.ReplayCount >= c.maxReplays {
		return nil, refuse, nil
	}
	target := c.target
	if target == "" {
		target = l.SourceTopic
	}
	if target == "" {
		return nil, replay, fmt.Errorf("dead letter %s[%d]@%d: %w (give a target topic)",
			l.Record.Topic, l.Record.Partition, l.Record.Offset, ErrNoSourceTopic)
	}
	if !l.ValueLeftOut() {
		return l.ReplayRecord(target), replay, nil
	}
	if l.SourceTopic == "" || l.SourcePartition < 0 || l.SourceOffset < 0 {
		return nil, replay, fmt.Errorf("dead letter %s[%d]@%d left its value out and does not say where the message is",
			l.Record.Topic, l.Record.Partition, l.Record.Offset)
	}
	src, err := readSource(ctx, c.clientOpts, l.SourceTopic, l.SourcePartition, l.SourceOffset)
	if err != nil {
		return nil, replay, fmt.Errorf("dead letter %s[%d]@%d left its value out (oversize): %w",
			l.Record.Topic, l.Record.Partition, l.Record.Offset, err)
	}
	return l.ReplayRecordFrom(src, target), replay, nil
}

// planReplay is the dry run: it reads the span without a group and reports
// what it would publish.
func (c *config) planReplay(ctx context.Context, topic string, sp span) (ReplayStats, error) {
	var st ReplayStats
	rd, err := newReader(topic, sp, 0, c.clientOpts)
	if err != nil {
		return st, err
	}
	defer rd.close()
	err = rd.each(ctx, func(r *kgo.Record) error {
		l := Parse(r)
		out, v, err := c.plan(ctx, &l)
		if err != nil {
			return err
		}
		switch v {
		case skip:
			st.Skipped++
			return nil
		case refuse:
			st.Refused++
			return nil
		}
		st.add(ReplayStats{Replayed: 1, Topics: map[string]int{out.Topic: 1}})
		return c.dryRun(&Planned{Letter: l, Record: out})
	})
	if err != nil && ctx.Err() != nil {
		return st, fmt.Errorf("%w: %w", ErrInterrupted, ctx.Err())
	}
	return st, err
}
