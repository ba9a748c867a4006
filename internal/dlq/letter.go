// Package dlq reads and replays sluice dead letters: records on a dead-letter
// topic that carry the original key and value bytes and the sluice.* headers
// described in ARCHITECTURE.md ("Dead letters").
//
// Inspect prints them; Replay republishes their original key and value to
// the source topic (or another one) exactly once, using Kafka transactions so
// that the published records and the consumed offsets commit atomically.
package dlq

import (
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/pipeline"
)

// HeaderReplayCount counts how many times a record was replayed from a
// dead-letter topic (a decimal string). Replay adds or increments it.
const HeaderReplayCount = "sluice.replay.count"

// Letter is a dead letter with its sluice headers parsed. Numeric headers
// that are absent or malformed read as -1 for the source partition and
// offset (0 is a real position) and as 0 for the others.
type Letter struct {
	Record *kgo.Record // the dead letter as read from the dead-letter topic

	Pipeline        string
	Stage           string
	Kind            string
	Message         string
	SourceTopic     string
	SourcePartition int32
	SourceOffset    int64
	SourceTimestamp int64 // Unix ms
	Attempts        int
	SchemaID        int
	ReplayCount     int
	Headers         map[string]string // every header; the last one wins on duplicates
}

// Parse reads the sluice headers of a dead letter.
func Parse(r *kgo.Record) Letter {
	l := Letter{Record: r, SourcePartition: -1, SourceOffset: -1,
		Headers: make(map[string]string, len(r.Headers))}
	for _, h := range r.Headers {
		l.Headers[h.Key] = string(h.Value)
	}
	h := l.Headers
	l.Pipeline = h[pipeline.HeaderPipeline]
	l.Stage = h[pipeline.HeaderStage]
	l.Kind = h[pipeline.HeaderKind]
	l.Message = h[pipeline.HeaderMessage]
	l.SourceTopic = h[pipeline.HeaderSourceTopic]
	if p, err := strconv.ParseInt(h[pipeline.HeaderSourcePartition], 10, 32); err == nil {
		l.SourcePartition = int32(p)
	}
	if o, err := strconv.ParseInt(h[pipeline.HeaderSourceOffset], 10, 64); err == nil {
		l.SourceOffset = o
	}
	l.SourceTimestamp, _ = strconv.ParseInt(h[pipeline.HeaderSourceTimestamp], 10, 64)
	l.Attempts, _ = strconv.Atoi(h[pipeline.HeaderAttempts])
	l.SchemaID, _ = strconv.Atoi(h[pipeline.HeaderSchemaID])
	l.ReplayCount, _ = strconv.Atoi(h[HeaderReplayCount])
	return l
}

// isDeadLetterHeader reports whether a header is one the pipeline adds when
// it dead-letters a message; replay drops them.
func isDeadLetterHeader(key string) bool {
	switch key {
	case pipeline.HeaderPipeline, pipeline.HeaderAttempts, pipeline.HeaderSchemaID:
		return true
	}
	return strings.HasPrefix(key, "sluice.error.") || strings.HasPrefix(key, "sluice.source.")
}

// ReplayRecord returns the record that replays l to topic: the original key
// and value bytes unchanged, the original non-sluice headers in their order,
// and sluice.replay.count incremented (1 on the first replay). Its Partition
// is the source partition (or -1 when unknown), which Replay keeps when the
// target topic has that partition.
func (l *Letter) ReplayRecord(topic string) *kgo.Record {
	out := &kgo.Record{Topic: topic, Key: l.Record.Key, Value: l.Record.Value, Partition: l.SourcePartition}
	for _, h := range l.Record.Headers {
		if isDeadLetterHeader(h.Key) || h.Key == HeaderReplayCount {
			continue
		}
		out.Headers = append(out.Headers, h)
	}
	out.Headers = append(out.Headers, kgo.RecordHeader{
		Key: HeaderReplayCount, Value: []byte(strconv.Itoa(l.ReplayCount + 1))})
	return out
}
