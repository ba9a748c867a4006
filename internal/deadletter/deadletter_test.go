package deadletter_test

import (
	"maps"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/deadletter"
)

// TestContract pins the header names and values that other tools read
// (ARCHITECTURE.md, "Dead letters"): changing one breaks them.
func TestContract(t *testing.T) {
	for got, want := range map[string]string{
		deadletter.HeaderPipeline:        "sluice.pipeline",
		deadletter.HeaderStage:           "sluice.error.stage",
		deadletter.HeaderKind:            "sluice.error.kind",
		deadletter.HeaderMessage:         "sluice.error.message",
		deadletter.HeaderSourceTopic:     "sluice.source.topic",
		deadletter.HeaderSourcePartition: "sluice.source.partition",
		deadletter.HeaderSourceOffset:    "sluice.source.offset",
		deadletter.HeaderSourceTimestamp: "sluice.source.timestamp",
		deadletter.HeaderAttempts:        "sluice.attempts",
		deadletter.HeaderSchemaID:        "sluice.schema.id",
		deadletter.HeaderReplayCount:     "sluice.replay.count",
		deadletter.HeaderReplayPipeline:  "sluice.replay.pipeline",
		deadletter.KindPoison:            "poison",
		deadletter.KindExhausted:         "exhausted",
		deadletter.KindOversize:          "oversize",
		deadletter.KindLate:              "late",
		deadletter.StageDecode:           "decode",
		deadletter.StageFilter:           "filter",
		deadletter.StageValidate:         "validate",
		deadletter.StageMap:              "map",
		deadletter.StageAggregate:        "aggregate",
		deadletter.StageLookup:           "lookup",
		deadletter.StageWindow:           "window",
		deadletter.StageState:            "state",
		deadletter.StageEncode:           "encode",
		deadletter.StageEmit:             "emit",
	} {
		if got != want {
			t.Errorf("constant %q, want %q", got, want)
		}
	}
}

func failure() deadletter.Failure {
	return deadletter.Failure{
		Pipeline: "user-stats", Stage: deadletter.StageValidate, Kind: deadletter.KindPoison,
		Message: "amount -3 < 0", Attempts: 1,
		SourceTopic: "user-topic", SourcePartition: 2, SourceOffset: 1234,
		SourceTimestamp: time.UnixMilli(1700000000123),
		SchemaID:        3, HasSchemaID: true,
	}
}

func TestHeaders(t *testing.T) {
	got := map[string]string{}
	for k, v := range deadletter.Headers(failure()) {
		got[k] = string(v)
	}
	want := map[string]string{
		"sluice.pipeline":         "user-stats",
		"sluice.error.stage":      "validate",
		"sluice.error.kind":       "poison",
		"sluice.error.message":    "amount -3 < 0",
		"sluice.source.topic":     "user-topic",
		"sluice.source.partition": "2",
		"sluice.source.offset":    "1234",
		"sluice.source.timestamp": "1700000000123",
		"sluice.attempts":         "1",
		"sluice.schema.id":        "3",
	}
	if !maps.Equal(got, want) {
		t.Fatalf("Headers = %v, want %v", got, want)
	}

	// A value that is no Confluent frame has no schema id header, while a
	// frame whose id is 0 has one.
	f := failure()
	f.SchemaID, f.HasSchemaID = 0, false
	if _, ok := deadletter.Headers(f)[deadletter.HeaderSchemaID]; ok {
		t.Error("schema id header without a frame")
	}
	f.HasSchemaID = true
	if v := deadletter.Headers(f)[deadletter.HeaderSchemaID]; string(v) != "0" {
		t.Errorf("schema id header %q for a frame with id 0, want \"0\"", v)
	}
}

func TestParseReadsWhatHeadersWrote(t *testing.T) {
	h := map[string]string{"traceparent": "00-abc-01", deadletter.HeaderReplayCount: "2"}
	for k, v := range deadletter.Headers(failure()) {
		h[k] = string(v)
	}
	l := deadletter.Parse(h)
	if l.Pipeline != "user-stats" || l.Stage != "validate" || l.Kind != "poison" || l.Message != "amount -3 < 0" ||
		l.SourceTopic != "user-topic" || l.SourcePartition != 2 || l.SourceOffset != 1234 ||
		l.SourceTimestamp != 1700000000123 || l.Attempts != 1 || l.SchemaID != 3 || l.ReplayCount != 2 ||
		!maps.Equal(l.Headers, h) {
		t.Fatalf("Parse = %+v", l)
	}
}

func TestParseAbsentOrMalformed(t *testing.T) {
	// -1 for positions (0 is a real one), 0 for the other numbers.
	for _, h := range []map[string]string{
		nil,
		{deadletter.HeaderSourceOffset: "x", deadletter.HeaderSourcePartition: "", deadletter.HeaderAttempts: "one"},
	} {
		l := deadletter.Parse(h)
		if l.SourcePartition != -1 || l.SourceOffset != -1 || l.SourceTimestamp != 0 || l.Attempts != 0 ||
			l.SchemaID != 0 || l.ReplayCount != 0 || l.SourceTopic != "" || l.Pipeline != "" {
			t.Errorf("Parse(%v) = %+v", h, l)
		}
	}
}

func TestIsFailureHeader(t *testing.T) {
	for key, want := range map[string]bool{
		deadletter.HeaderPipeline:        true,
		deadletter.HeaderStage:           true,
		deadletter.HeaderKind:            true,
		deadletter.HeaderMessage:         true,
		deadletter.HeaderSourceTopic:     true,
		deadletter.HeaderSourcePartition: true,
		deadletter.HeaderSourceOffset:    true,
		deadletter.HeaderSourceTimestamp: true,
		deadletter.HeaderAttempts:        true,
		deadletter.HeaderSchemaID:        true,
		deadletter.HeaderReplayCount:     false,
		deadletter.HeaderReplayPipeline:  false,
		"traceparent":                    false,
		"sluice.pipelines":               false,
	} {
		if got := deadletter.IsFailureHeader(key); got != want {
			t.Errorf("IsFailureHeader(%q) = %v, want %v", key, got, want)
		}
	}
}
