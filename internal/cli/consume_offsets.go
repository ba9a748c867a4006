package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// startKind is where consume starts in each partition.
type startKind int

const (
	startEnd       startKind = iota // after the last record
	startBeginning                  // at the first record kept
	startAt                         // at an absolute offset
	startFromEnd                    // n records before the end
	startTime                       // at the first record at or after a time
)

// startSpec is consume's starting point: --offset, --from-beginning or
// --from-time, the same in every partition.
type startSpec struct {
	kind  startKind
	n     int64 // the offset of startAt, the count of startFromEnd
	milli int64 // the Unix ms of startTime
}

// parseOffset reads --offset like kcat's -o: beginning, end, N (the absolute
// offset N) or -N (N records before the end).
func parseOffset(s string) (startSpec, error) {
	switch s {
	case "beginning", "start", "earliest":
		return startSpec{kind: startBeginning}, nil
	case "end", "latest":
		return startSpec{kind: startEnd}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil:
		return startSpec{}, usagef("--offset %q: want beginning, end, an offset N or -N (N before the end)", s)
	case n < 0:
		return startSpec{kind: startFromEnd, n: -n}, nil
	case strings.HasPrefix(s, "-"): // -0: the end
		return startSpec{kind: startEnd}, nil
	}
	return startSpec{kind: startAt, n: n}, nil
}

// parseFromTime reads --from-time: an RFC 3339 time, or a duration before
// now ("10m" and "-10m" both mean ten minutes ago).
func parseFromTime(s string, now time.Time) (startSpec, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return startSpec{kind: startTime, milli: t.UnixMilli()}, nil
	}
	d, err := time.ParseDuration(strings.TrimPrefix(s, "-"))
	if err != nil || d < 0 {
		return startSpec{}, usagef("--from-time %q: want an RFC 3339 time (2026-01-02T15:04:05Z) or a duration ago (10m, 2h)", s)
	}
	return startSpec{kind: startTime, milli: now.Add(-d).UnixMilli()}, nil
}

// resetOffset is the spec as a franz-go offset, for consumers that let the
// client resolve it: the start of every partition without --group, and the
// start of a group's partitions that have no committed offset.
func (s startSpec) resetOffset() kgo.Offset {
	switch s.kind {
	case startBeginning:
		return kgo.NewOffset().AtStart()
	case startAt:
		return kgo.NewOffset().At(s.n)
	case startFromEnd:
		return kgo.NewOffset().AtEnd().Relative(-s.n)
	case startTime:
		return kgo.NewOffset().AfterMilli(s.milli)
	}
	return kgo.NewOffset().AtEnd()
}

// span is the offsets [from, to) that --until-end reads in one partition.
type span struct{ from, to int64 }

// partitionSpans lists each partition's start and end offsets now and
// resolves the spec within them: an offset past either end is held to it.
func (s startSpec) partitionSpans(ctx context.Context, adm *kadm.Client, topic string) (map[int32]span, error) {
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("listing the start offsets of %s: %w", topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("listing the end offsets of %s: %w", topic, err)
	}
	var after kadm.ListedOffsets
	if s.kind == startTime {
		if after, err = adm.ListOffsetsAfterMilli(ctx, s.milli, topic); err == nil {
			err = after.Error()
		}
		if err != nil {
			return nil, fmt.Errorf("listing the offsets of %s after %s: %w", topic,
				time.UnixMilli(s.milli).UTC().Format(time.RFC3339), err)
		}
	}
	spans := map[int32]span{}
	for p, end := range ends[topic] {
		first := starts[topic][p].Offset
		from := end.Offset
		switch s.kind {
		case startBeginning:
			from = first
		case startAt:
			from = s.n
		case startFromEnd:
			from = end.Offset - s.n
		case startTime:
			if o, ok := after.Lookup(topic, p); ok && o.Offset >= 0 {
				from = o.Offset
			}
		}
		spans[p] = span{from: min(max(from, first), end.Offset), to: end.Offset}
	}
	return spans, nil
}

// endTracker ends --until-end: it knows each partition's end offset seen at
// the start and which partitions have reached it.
type endTracker struct {
	ends    map[int32]int64
	pending map[int32]bool
}

func newEndTracker(spans map[int32]span) *endTracker {
	t := &endTracker{ends: map[int32]int64{}, pending: map[int32]bool{}}
	for p, s := range spans {
		t.ends[p] = s.to
		if s.from < s.to {
			t.pending[p] = true
		}
	}
	return t
}

// see records that r was consumed and reports whether to print it: a record
// at or past the end seen at the start is not printed, nor is a transaction
// marker, which only moves the partition towards its end.
func (t *endTracker) see(r *kgo.Record) bool {
	end := t.ends[r.Partition]
	if r.Offset >= end-1 {
		delete(t.pending, r.Partition)
	}
	return r.Offset < end && !r.Attrs.IsControl()
}

// done reports whether every partition has reached its end.
func (t *endTracker) done() bool { return len(t.pending) == 0 }

// consumePartitions is the franz-go option that reads each pending span.
func (t *endTracker) consumePartitions(topic string, spans map[int32]span) kgo.Opt {
	ps := map[int32]kgo.Offset{}
	for p := range t.pending {
		ps[p] = kgo.NewOffset().At(spans[p].from)
	}
	return kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: ps})
}
