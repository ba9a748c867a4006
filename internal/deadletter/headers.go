package deadletter

import (
	"strconv"
	"time"
)

// Failure is what a dead letter says about the message it carries: which
// pipeline failed it, where and how, and where the message came from.
type Failure struct {
	Pipeline string
	Stage    string
	Kind     string
	Message  string // the error text
	Attempts int    // how many times the message was tried

	SourceTopic     string
	SourcePartition int32
	SourceOffset    int64
	SourceTimestamp time.Time

	// SchemaID is the writer schema id of the message's Confluent frame;
	// HasSchemaID says whether the value was such a frame (magic byte 0 and
	// at least 5 bytes). Without it the dead letter has no HeaderSchemaID.
	SchemaID    int
	HasSchemaID bool
}

// Headers returns the sluice headers of the dead letter for f, each value a
// string in bytes (the type of goka.Headers).
func Headers(f Failure) map[string][]byte {
	h := map[string][]byte{
		HeaderPipeline:        []byte(f.Pipeline),
		HeaderStage:           []byte(f.Stage),
		HeaderKind:            []byte(f.Kind),
		HeaderMessage:         []byte(f.Message),
		HeaderSourceTopic:     []byte(f.SourceTopic),
		HeaderSourcePartition: []byte(strconv.Itoa(int(f.SourcePartition))),
		HeaderSourceOffset:    []byte(strconv.FormatInt(f.SourceOffset, 10)),
		HeaderSourceTimestamp: []byte(strconv.FormatInt(f.SourceTimestamp.UnixMilli(), 10)),
		HeaderAttempts:        []byte(strconv.Itoa(f.Attempts)),
	}
	if f.HasSchemaID {
		h[HeaderSchemaID] = []byte(strconv.Itoa(f.SchemaID))
	}
	return h
}
