package pipeline

import (
	"bytes"
	"slices"
	"strings"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/internal/tracing"
)

// outputHeaders are the headers of a message's outputs: its input headers as
// policy says, never the sluice.* ones (they describe the record's way
// through one pipeline: a dead letter's failure, a replay's count and
// addressee), nil when none are left. The W3C trace context (traceparent,
// tracestate) goes through whatever the policy: it is the record's place in
// a trace, not its content, and the trace would break at sluice without it.
func outputHeaders(policy Headers, input []sarama.RecordHeader) []sarama.RecordHeader {
	if len(input) == 0 {
		return nil
	}
	if policy.Drop {
		return traceContext(input)
	}
	if keepsAll(policy, input) {
		return input // shared, never changed: no copy per message
	}
	var out []sarama.RecordHeader
	for _, h := range input {
		name := string(h.Key)
		if strings.HasPrefix(name, "sluice.") {
			continue
		}
		if policy.Only != nil && !slices.Contains(policy.Only, name) && !tracing.IsContextHeader(h.Key) {
			continue
		}
		out = append(out, h)
	}
	return out
}

// traceContext returns the trace context headers of input, nil when there
// are none.
func traceContext(input []sarama.RecordHeader) []sarama.RecordHeader {
	var out []sarama.RecordHeader
	for _, h := range input {
		if tracing.IsContextHeader(h.Key) {
			out = append(out, h)
		}
	}
	return out
}

// keepsAll reports whether outputHeaders keeps every one of input.
func keepsAll(policy Headers, input []sarama.RecordHeader) bool {
	for _, h := range input {
		if bytes.HasPrefix(h.Key, []byte("sluice.")) || policy.Only != nil && !slices.Contains(policy.Only, string(h.Key)) {
			return false
		}
	}
	return true
}
