package pipeline

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// History identifies one history of a pipeline's input: the input topic's
// id (a recreated topic has a new one, its offsets start again at 0) and
// the group's reset generation (`sluice reset` sets a new one, and the
// offsets go back on purpose). Generations are the Unix milliseconds of
// the reset (or one more than the last, if the clock is behind), so a
// later reset's is larger even when the group's offsets, which carry the
// generation, were lost in between. A table entry stores the history of the message it
// applied; a message is a redelivery only when its history is the entry's
// and its offset is at or below the entry's.
type History struct {
	// TopicID is the input topic's id as Kafka's tools print it (base64 URL
	// encoding without padding); empty when the broker has no topic ids.
	TopicID string
	// Generation is the group's last reset (0: never reset).
	Generation int64
}

// inputHistory is the history a processor runs in, read before it starts.
type inputHistory struct {
	History
	// StateSince is the generation of the last reset that cleared the
	// state (reset --clear-state): entries of an older generation are
	// void, even where a local state folder still holds them.
	StateSince int64
}

// IsZero reports whether h is the history of entries written before
// histories were stored (or of a broker without topic ids, never reset).
func (h History) IsZero() bool { return h == History{} }

// redelivery reports whether a message at partition and offset, consumed in
// history cur, was applied already to entry e: the same partition, at or
// before the entry's offset, of the same topic (when both know its id) and
// of a generation the entry has seen. A reset's generation is newer than
// every entry's, so what it reprocesses is applied again; an entry written
// before histories were stored is generation 0. When the group's offsets
// and their metadata are lost (they expire with the group, or went with a
// deleted topic) the generation reads as 0: then the offsets decide, as a
// consumer restarting from its reset policy would expect.
func (e *TableEntry) redelivery(partition int32, offset int64, cur History) bool {
	if e.Partition != partition || e.Offset < offset {
		return false
	}
	if e.History.TopicID != "" && cur.TopicID != "" && e.History.TopicID != cur.TopicID {
		return false
	}
	return e.History.Generation >= cur.Generation
}

// void reports whether entry e was written before the state was cleared.
func (h inputHistory) void(e *TableEntry) bool {
	return e.History.Generation < h.StateSince
}

// resetMetadata is what the group's committed offsets carry as metadata
// once `sluice reset` ran: the reset's generation, and the generation since
// which the state counts. Processors commit it again with every offset.
type resetMetadata struct {
	Generation int64 `json:"sluice_generation"`
	StateSince int64 `json:"sluice_state_since,omitempty"`
}

// metadata is the offset-commit metadata of history h ("" before any reset).
func (h inputHistory) metadata() string {
	if h.Generation == 0 && h.StateSince == 0 {
		return ""
	}
	b, _ := json.Marshal(resetMetadata{Generation: h.Generation, StateSince: h.StateSince})
	return string(b)
}

// parseResetMetadata reads a committed offset's metadata; ok is false for
// metadata sluice did not write (other tools may write their own).
func parseResetMetadata(s string) (md resetMetadata, ok bool) {
	if !strings.HasPrefix(s, `{"sluice_generation"`) {
		return resetMetadata{}, false
	}
	if err := json.Unmarshal([]byte(s), &md); err != nil {
		return resetMetadata{}, false
	}
	return md, true
}

// topicID formats a Kafka topic id as Kafka's tools do ("" for none).
func topicID(id kadm.TopicID) string {
	if id == (kadm.TopicID{}) {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(id[:])
}

// readHistory reads the history of group's input topic: the topic's id, and
// the newest reset generation its committed offsets carry.
func readHistory(ctx context.Context, adm *kadm.Client, group, topic string) (inputHistory, error) {
	var h inputHistory
	topics, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return h, fmt.Errorf("reading the id of topic %s: %w", topic, err)
	}
	td, ok := topics[topic]
	switch {
	case !ok:
		return h, fmt.Errorf("reading the id of topic %s: the brokers' metadata does not name it", topic)
	case td.Err != nil:
		return h, fmt.Errorf("reading the id of topic %s: %w", topic, td.Err)
	}
	h.TopicID = topicID(td.ID)
	committed, err := fetchCommitted(ctx, adm, group, topic)
	switch {
	case errors.Is(err, kerr.GroupIDNotFound):
		return h, nil // a group that never committed
	case err != nil:
		return h, fmt.Errorf("reading the committed offsets of group %s: %w", group, err)
	}
	committed.Each(func(o kadm.OffsetResponse) {
		if md, ok := parseResetMetadata(o.Metadata); ok {
			h.Generation = max(h.Generation, md.Generation)
			h.StateSince = max(h.StateSince, md.StateSince)
		}
	})
	return h, nil
}

// currentHistory is the history the processor runs in (zero before it is
// read, and for a stateless pipeline).
func (r *handler) currentHistory() inputHistory {
	if h := r.history.Load(); h != nil {
		return *h
	}
	return inputHistory{}
}

// loadHistory reads the input history a stateful pipeline's processor runs
// in (a stateless one has none to keep).
func (run *pipelineProcess) loadHistory(ctx context.Context, adm *kadm.Client) error {
	if !run.p.Stateful() {
		return nil
	}
	h, err := readHistory(ctx, adm, run.p.Group, run.p.Input.Topic)
	if err != nil {
		return fmt.Errorf("pipeline %s: %w", run.p.Name, err)
	}
	if old := run.history.Load(); old == nil || *old != h {
		run.log.Info("input history", "topic", run.p.Input.Topic, "topic_id", h.TopicID, "reset_generation", h.Generation, "state_since_generation", h.StateSince)
	}
	run.history.Store(&h)
	return nil
}

// reloadHistory reads the history again before a processor restarts.
func (sv *Supervisor) reloadHistory(ctx context.Context, run *pipelineProcess) error {
	if !run.p.Stateful() {
		return nil
	}
	adm, err := sv.conn("-setup").Dial(ctx)
	if err != nil {
		return err
	}
	defer adm.Close()
	return run.loadHistory(ctx, adm)
}

// coordinatorWait bounds waiting for a group coordinator that is not ready
// (a cluster just started, a coordinator moving).
const coordinatorWait = 15 * time.Second

// fetchCommitted reads group's committed offsets of topic, asking again
// for a while when the broker answers with a retriable error.
func fetchCommitted(ctx context.Context, adm *kadm.Client, group, topic string) (kadm.OffsetResponses, error) {
	deadline := time.Now().Add(coordinatorWait)
	for {
		committed, err := adm.FetchOffsetsForTopics(ctx, group, topic)
		if err == nil {
			err = committed.Error()
		}
		if err == nil || !kerr.IsRetriable(err) || time.Now().After(deadline) {
			return committed, err
		}
		select {
		case <-ctx.Done():
			return committed, err
		case <-time.After(200 * time.Millisecond):
		}
	}
}
