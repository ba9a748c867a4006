package pipeline

import (
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
