package pipeline

import (
	"github.com/IBM/sarama"
	"github.com/lovoo/goka"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/processors"
)

// failure is why a message is dead-lettered.
type failure struct {
	stage    string
	kind     string
	err      error
	attempts int
}

// deadLetterHeaders builds the headers of a dead letter for the message at meta.
func deadLetterHeaders(pipeline string, meta processors.Meta, raw []byte, f failure) goka.Headers {
	id, hasID := codecs.FrameSchemaID(raw)
	return deadletter.Headers(deadletter.Failure{
		Pipeline:        pipeline,
		Stage:           f.stage,
		Kind:            f.kind,
		Message:         f.err.Error(),
		Attempts:        f.attempts,
		SourceTopic:     meta.Topic,
		SourcePartition: meta.Partition,
		SourceOffset:    meta.Offset,
		SourceTimestamp: meta.Timestamp,
		SchemaID:        id,
		HasSchemaID:     hasID,
	})
}

// deadLetterRecordHeaders are a dead letter's headers: the input's, in their
// order, then the sluice ones, which win where a name is in both.
func deadLetterRecordHeaders(input []sarama.RecordHeader, sluice goka.Headers) []sarama.RecordHeader {
	out := make([]sarama.RecordHeader, 0, len(input)+len(sluice))
	for _, h := range input {
		if _, clash := sluice[string(h.Key)]; !clash {
			out = append(out, h)
		}
	}
	return append(out, sortedHeaders(sluice)...)
}
