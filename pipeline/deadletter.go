package pipeline

import (
	"strconv"

	"github.com/lovoo/goka"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/processors"
)

// Dead-letter header names (ARCHITECTURE.md).
const (
	HeaderPipeline        = "sluice.pipeline"
	HeaderStage           = "sluice.error.stage"
	HeaderKind            = "sluice.error.kind"
	HeaderMessage         = "sluice.error.message"
	HeaderSourceTopic     = "sluice.source.topic"
	HeaderSourcePartition = "sluice.source.partition"
	HeaderSourceOffset    = "sluice.source.offset"
	HeaderSourceTimestamp = "sluice.source.timestamp"
	HeaderAttempts        = "sluice.attempts"
	HeaderSchemaID        = "sluice.schema.id"
)

// Error kinds.
const (
	KindPoison    = "poison"
	KindExhausted = "exhausted"
)

// Stages that are not step types.
const (
	StageDecode = "decode"
	StageEncode = "encode"
	StageEmit   = "emit"
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
	h := goka.Headers{
		HeaderPipeline:        []byte(pipeline),
		HeaderStage:           []byte(f.stage),
		HeaderKind:            []byte(f.kind),
		HeaderMessage:         []byte(f.err.Error()),
		HeaderSourceTopic:     []byte(meta.Topic),
		HeaderSourcePartition: []byte(strconv.Itoa(int(meta.Partition))),
		HeaderSourceOffset:    []byte(strconv.FormatInt(meta.Offset, 10)),
		HeaderSourceTimestamp: []byte(strconv.FormatInt(meta.Timestamp.UnixMilli(), 10)),
		HeaderAttempts:        []byte(strconv.Itoa(f.attempts)),
	}
	if id, ok := codecs.FrameSchemaID(raw); ok {
		h[HeaderSchemaID] = []byte(strconv.Itoa(id))
	}
	return h
}
