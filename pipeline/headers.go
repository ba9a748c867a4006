package pipeline

import (
	"bytes"
	"slices"
	"strings"

	"github.com/IBM/sarama"
)

// outputHeaders are the headers of a message's outputs: its input headers as
// policy says, never the sluice.* ones (they describe the record's way
// through one pipeline: a dead letter's failure, a replay's count and
// addressee), nil when none are left.
func outputHeaders(policy Headers, input []sarama.RecordHeader) []sarama.RecordHeader {
	if policy.Drop || len(input) == 0 {
		return nil
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
		if policy.Only != nil && !slices.Contains(policy.Only, name) {
			continue
		}
		out = append(out, h)
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
