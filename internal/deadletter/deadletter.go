// Package deadletter is the vocabulary of sluice dead letters, shared by the
// side that writes them (the pipeline runtime) and the side that reads them
// (`sluice dlq`): the sluice.* header names, the stages and kinds those
// headers carry, the builder of a dead letter's headers and the parser of
// them (ARCHITECTURE.md, "Dead letters"). It imports only the standard
// library, so that either side can use it without the other's dependencies.
package deadletter

// Header names. The values are strings; numbers are decimal.
const (
	HeaderPipeline        = "sluice.pipeline"
	HeaderStage           = "sluice.error.stage"
	HeaderKind            = "sluice.error.kind"
	HeaderMessage         = "sluice.error.message"
	HeaderSourceTopic     = "sluice.source.topic"
	HeaderSourcePartition = "sluice.source.partition"
	HeaderSourceOffset    = "sluice.source.offset"
	HeaderSourceTimestamp = "sluice.source.timestamp" // Unix ms
	HeaderAttempts        = "sluice.attempts"
	HeaderSchemaID        = "sluice.schema.id"
	// HeaderReplayCount counts how many times a record was replayed from a
	// dead-letter topic; `dlq replay` adds or increments it.
	HeaderReplayCount = "sluice.replay.count"
	// HeaderReplayPipeline names the pipeline a letter is replayed for.
	HeaderReplayPipeline = "sluice.replay.pipeline"
)

// Stages, the values of HeaderStage. A custom step's stage is its own name.
const (
	StageDecode    = "decode"
	StageFilter    = "filter"
	StageValidate  = "validate"
	StageMap       = "map"
	StageAggregate = "aggregate"
	StageLookup    = "lookup"
	StageWindow    = "window"
	StageState     = "state"
	StageEncode    = "encode"
	StageEmit      = "emit"
)

// Kinds, the values of HeaderKind.
const (
	// KindPoison is a message that will never succeed.
	KindPoison = "poison"
	// KindExhausted is a transient failure whose retries are used up.
	KindExhausted = "exhausted"
	// KindOversize is a message too large for the target topic; the dead
	// letter leaves its value out.
	KindOversize = "oversize"
	// KindLate is a record whose window has already closed.
	KindLate = "late"
)
