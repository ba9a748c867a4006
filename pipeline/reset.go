package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluicehq/sluice/internal/kafkaconn"
)

// ResetTo is where `sluice reset` moves a group's offsets: the earliest or
// latest offset of each partition, the first offset at or after a time, or
// one offset for every partition.
type ResetTo struct {
	Earliest, Latest bool
	Time             time.Time // the zero time: not by time
	Offset           int64     // -1: not by offset
}

// ParseResetTo reads earliest, latest, an RFC 3339 time or an offset.
func ParseResetTo(s string) (ResetTo, error) {
	to := ResetTo{Offset: -1}
	switch s = strings.TrimSpace(s); s {
	case "earliest":
		to.Earliest = true
		return to, nil
	case "latest":
		to.Latest = true
		return to, nil
	case "":
		return to, errors.New("empty: want earliest, latest, an RFC 3339 time or an offset")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return to, fmt.Errorf("offset %d is negative", n)
		}
		to.Offset = n
		return to, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return to, fmt.Errorf("%q is not earliest, latest, an offset or an RFC 3339 time (2026-11-30T09:00:00Z): %v", s, err)
	}
	to.Time = t
	return to, nil
}

func (to ResetTo) String() string {
	switch {
	case to.Earliest:
		return "earliest"
	case to.Latest:
		return "latest"
	case !to.Time.IsZero():
		return to.Time.Format(time.RFC3339Nano)
	}
	return strconv.FormatInt(to.Offset, 10)
}

// ResetPlan is what a reset changes: each partition's committed offset, the
// group's reset generation and, with ClearState, the state.
type ResetPlan struct {
	Pipeline, Group, Topic string
	To                     ResetTo
	Partitions             []ResetPartition
	// Generation is the reset generation the reset gives the group (see
	// History); Previous is the one before.
	Generation, Previous int64
	// Stateful pipelines keep a table in Changelog; ClearState deletes it
	// (the pipeline recreates it empty at its next start).
	Stateful   bool
	Changelog  string
	ClearState bool
}

// ResetPartition is one partition's offsets before and after a reset.
type ResetPartition struct {
	Partition int32
	// Current is the committed offset, -1 for none.
	Current int64
	New     int64
	// Note says why New is not what was asked (an offset out of range).
	Note string
}

// ErrGroupLive says a reset was refused because the group has members.
var ErrGroupLive = errors.New("the consumer group has live members")

// PlanReset works out the reset of pipeline p's group to to. It changes
// nothing. It fails with ErrGroupLive, naming the members, while any
// instance runs the pipeline: a running member would commit over the new
// offsets.
func PlanReset(ctx context.Context, adm *kadm.Client, p *Pipeline, to ResetTo, clearState bool) (*ResetPlan, error) {
	plan := &ResetPlan{Pipeline: p.Name, Group: p.Group, Topic: p.Input.Topic, To: to,
		Stateful: p.Stateful(), ClearState: clearState && p.Stateful()}
	if plan.Stateful {
		plan.Changelog = TableTopic(p.Group)
	}
	if err := refuseLive(ctx, adm, p.Group); err != nil {
		return nil, err
	}
	starts, err := listed(adm.ListStartOffsets(ctx, p.Input.Topic))
	if err != nil {
		return nil, fmt.Errorf("start offsets of %s: %w", p.Input.Topic, err)
	}
	ends, err := listed(adm.ListEndOffsets(ctx, p.Input.Topic))
	if err != nil {
		return nil, fmt.Errorf("end offsets of %s: %w", p.Input.Topic, err)
	}
	var byTime kadm.ListedOffsets
	if !to.Time.IsZero() {
		if byTime, err = listed(adm.ListOffsetsAfterMilli(ctx, to.Time.UnixMilli(), p.Input.Topic)); err != nil {
			return nil, fmt.Errorf("offsets of %s at %s: %w", p.Input.Topic, to, err)
		}
	}
	committed, err := fetchCommitted(ctx, adm, p.Group, p.Input.Topic)
	switch {
	case errors.Is(err, kerr.GroupIDNotFound):
		committed = nil
	case err != nil:
		return nil, fmt.Errorf("committed offsets of group %s: %w", p.Group, err)
	}
	committed.Each(func(o kadm.OffsetResponse) {
		if md, ok := parseResetMetadata(o.Metadata); ok {
			plan.Previous = max(plan.Previous, md.Generation)
		}
	})
	plan.Generation = max(plan.Previous+1, time.Now().UnixMilli())
	ends.Each(func(end kadm.ListedOffset) {
		rp := ResetPartition{Partition: end.Partition, Current: -1}
		if c, ok := committed.Lookup(p.Input.Topic, end.Partition); ok && c.At >= 0 {
			rp.Current = c.At
		}
		start := int64(0)
		if s, ok := starts.Lookup(p.Input.Topic, end.Partition); ok {
			start = s.Offset
		}
		switch {
		case to.Earliest:
			rp.New = start
		case to.Latest:
			rp.New = end.Offset
		case !to.Time.IsZero():
			rp.New = end.Offset // no record at or after the time
			if o, ok := byTime.Lookup(p.Input.Topic, end.Partition); ok && o.Offset >= 0 {
				rp.New = o.Offset
			}
		default:
			// As kafka-consumer-groups --to-offset does: clamped to what
			// the partition holds.
			rp.New = min(max(to.Offset, start), end.Offset)
			if rp.New != to.Offset {
				rp.Note = fmt.Sprintf("offset %d is outside [%d, %d]", to.Offset, start, end.Offset)
			}
		}
		plan.Partitions = append(plan.Partitions, rp)
	})
	sort.Slice(plan.Partitions, func(i, j int) bool { return plan.Partitions[i].Partition < plan.Partitions[j].Partition })
	return plan, nil
}

// listed returns offsets and the first error among them.
func listed(o kadm.ListedOffsets, err error) (kadm.ListedOffsets, error) {
	if err == nil {
		err = o.Error()
	}
	return o, err
}

// refuseLive fails with ErrGroupLive, naming the members, when group has any.
func refuseLive(ctx context.Context, adm *kadm.Client, group string) error {
	groups, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return fmt.Errorf("describing group %s: %w", group, err)
	}
	g, ok := groups[group]
	if !ok || errors.Is(g.Err, kerr.GroupIDNotFound) || len(g.Members) == 0 {
		return nil
	}
	if g.Err != nil {
		return fmt.Errorf("describing group %s: %w", group, g.Err)
	}
	names := make([]string, 0, len(g.Members))
	for _, m := range g.Members {
		name := m.MemberID
		if m.InstanceID != nil {
			name = "instance " + *m.InstanceID + " (" + m.MemberID + ")"
		}
		names = append(names, fmt.Sprintf("%s on %s", name, m.ClientHost))
	}
	return fmt.Errorf("%w: group %s is %s with %d member(s): %s; stop every instance of the pipeline first "+
		"(a static member stays in the group until its session times out)", ErrGroupLive, group, g.State, len(g.Members), strings.Join(names, ", "))
}

// Apply commits the plan's offsets with its reset generation (and,
// with ClearState, the generation the state starts again at) and deletes
// the changelog when the state is cleared. It checks again that the group
// has no members first.
func (plan *ResetPlan) Apply(ctx context.Context, adm *kadm.Client) error {
	if err := refuseLive(ctx, adm, plan.Group); err != nil {
		return err
	}
	h := inputHistory{History: History{Generation: plan.Generation}}
	committed, err := fetchCommitted(ctx, adm, plan.Group, plan.Topic)
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		return fmt.Errorf("committed offsets of group %s: %w", plan.Group, err)
	}
	committed.Each(func(o kadm.OffsetResponse) {
		if md, ok := parseResetMetadata(o.Metadata); ok {
			h.StateSince = max(h.StateSince, md.StateSince)
		}
	})
	if plan.ClearState {
		h.StateSince = h.Generation
	}
	md := h.metadata()
	offsets := kadm.Offsets{}
	for _, rp := range plan.Partitions {
		offsets.Add(kadm.Offset{Topic: plan.Topic, Partition: rp.Partition, At: rp.New, LeaderEpoch: -1, Metadata: md})
	}
	resp, err := adm.CommitOffsets(ctx, plan.Group, offsets)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return fmt.Errorf("committing the new offsets of group %s: %w", plan.Group, err)
	}
	if !plan.ClearState {
		return nil
	}
	if err := kafkaconn.DeleteTopic(ctx, adm, plan.Changelog); err != nil {
		return fmt.Errorf("clearing the state: %w", err)
	}
	// Deleting is asynchronous on a real broker: wait until the topic is
	// gone, so that the pipeline's next start creates it empty.
	for {
		_, err := kafkaconn.Partitions(ctx, adm, plan.Changelog)
		if errors.Is(err, kafkaconn.ErrNoTopic) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for topic %s to be deleted: %w", plan.Changelog, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
