package deadletter

import (
	"strconv"
	"strings"
)

// Letter is what the sluice headers of a dead letter say. Numeric headers
// that are absent or malformed read as -1 for the source partition and
// offset (0 is a real position) and as 0 for the others.
type Letter struct {
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
	Headers         map[string]string // every header of the dead letter
}

// Parse reads the sluice headers out of a dead letter's headers, given by
// name (the caller decides which of duplicates wins). The Letter keeps
// headers as its Headers.
func Parse(headers map[string]string) Letter {
	h := headers
	l := Letter{
		Pipeline:        h[HeaderPipeline],
		Stage:           h[HeaderStage],
		Kind:            h[HeaderKind],
		Message:         h[HeaderMessage],
		SourceTopic:     h[HeaderSourceTopic],
		SourcePartition: -1,
		SourceOffset:    -1,
		Headers:         headers,
	}
	if p, err := strconv.ParseInt(h[HeaderSourcePartition], 10, 32); err == nil {
		l.SourcePartition = int32(p)
	}
	if o, err := strconv.ParseInt(h[HeaderSourceOffset], 10, 64); err == nil {
		l.SourceOffset = o
	}
	l.SourceTimestamp, _ = strconv.ParseInt(h[HeaderSourceTimestamp], 10, 64)
	l.Attempts, _ = strconv.Atoi(h[HeaderAttempts])
	l.SchemaID, _ = strconv.Atoi(h[HeaderSchemaID])
	l.ReplayCount, _ = strconv.Atoi(h[HeaderReplayCount])
	return l
}

// IsFailureHeader reports whether key is a header the pipeline adds when it
// dead-letters a message (the replay headers are not); a replay drops them.
func IsFailureHeader(key string) bool {
	switch key {
	case HeaderPipeline, HeaderAttempts, HeaderSchemaID:
		return true
	}
	return strings.HasPrefix(key, "sluice.error.") || strings.HasPrefix(key, "sluice.source.")
}
