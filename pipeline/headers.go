package pipeline

import (
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
