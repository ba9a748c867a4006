// Package dlq reads and replays sluice dead letters: records on a dead-letter
// topic that carry the original key and value bytes and the sluice.* headers
// described in ARCHITECTURE.md ("Dead letters").
//
// Inspect prints them; Replay republishes their original key and value to
// the source topic (or another one) exactly once, using Kafka transactions so
// that the published records and the consumed offsets commit atomically.
//
// It shares the dead-letter vocabulary with the pipeline through
// internal/deadletter and must not import pipeline, goka or sarama: the DLQ
// tools talk to Kafka with franz-go only.
// The rules are checked by TestImportRules (arch_test.go).
package dlq

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/deadletter"
)

// Letter is a dead letter as read from its topic, with its sluice headers
// parsed (see deadletter.Letter).
type Letter struct {
	Record *kgo.Record // the dead letter as read from the dead-letter topic
	deadletter.Letter
}

// Parse reads the sluice headers of a dead letter. Its Headers hold every
// header of r; the last one wins on duplicates.
func Parse(r *kgo.Record) Letter {
	h := make(map[string]string, len(r.Headers))
	for _, rh := range r.Headers {
		h[rh.Key] = string(rh.Value)
	}
	return Letter{Record: r, Letter: deadletter.Parse(h)}
}

// ReplayRecord returns the record that replays l to topic: the original key
// and value bytes unchanged, the original non-sluice headers in their order,
// sluice.replay.count incremented (1 on the first replay) and
// sluice.replay.pipeline naming the pipeline that dead-lettered it (its
// sluice.pipeline header), so that other pipelines reading topic skip it.
// Its Partition is the source partition (or -1 when unknown), which Replay
// keeps when the target topic has that partition.
func (l *Letter) ReplayRecord(topic string) *kgo.Record {
	out := &kgo.Record{Topic: topic, Key: l.Record.Key, Value: l.Record.Value, Partition: l.SourcePartition}
	for _, h := range l.Record.Headers {
		switch {
		case deadletter.IsFailureHeader(h.Key), h.Key == deadletter.HeaderReplayCount, h.Key == deadletter.HeaderReplayPipeline:
			continue
		}
		out.Headers = append(out.Headers, h)
	}
	out.Headers = append(out.Headers, kgo.RecordHeader{
		Key: deadletter.HeaderReplayCount, Value: []byte(strconv.Itoa(l.ReplayCount + 1))})
	if l.Pipeline != "" {
		out.Headers = append(out.Headers, kgo.RecordHeader{Key: deadletter.HeaderReplayPipeline, Value: []byte(l.Pipeline)})
	}
	return out
}

// ValueLeftOut reports whether the pipeline left the message's value out of
// l because the dead letter would not have fit its topic (kind oversize,
// null value): the message is to be read at its source coordinates.
func (l *Letter) ValueLeftOut() bool {
	return l.Kind == deadletter.KindOversize && l.Record.Value == nil
}

// ReplayRecordFrom is ReplayRecord for a letter whose value was left out:
// key, value and headers are those of src, the source record l points at.
func (l *Letter) ReplayRecordFrom(src *kgo.Record, topic string) *kgo.Record {
	whole := Parse(src)
	whole.Pipeline, whole.SourcePartition = l.Pipeline, l.SourcePartition
	return whole.ReplayRecord(topic)
}
