package pipeline

import (
	"strings"
	"testing"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/processors"
)

func recordHeaders(kv ...string) []sarama.RecordHeader {
	var out []sarama.RecordHeader
	for i := 0; i < len(kv); i += 2 {
		out = append(out, sarama.RecordHeader{Key: []byte(kv[i]), Value: []byte(kv[i+1])})
	}
	return out
}

func renderHeaders(hs []sarama.RecordHeader) string {
	var out []string
	for _, h := range hs {
		out = append(out, string(h.Key)+"="+string(h.Value))
	}
	return strings.Join(out, " ")
}

// TestOutputHeadersKeepTraceContext: whatever the headers setting, outputs
// carry traceparent and tracestate (and never sluice.* headers).
func TestOutputHeadersKeepTraceContext(t *testing.T) {
	in := recordHeaders("tenant", "acme", "traceparent", "tp", "sluice.replay.count", "1", "tracestate", "ts", "tag", "a")
	for _, c := range []struct {
		policy Headers
		want   string
	}{
		{Headers{}, "tenant=acme traceparent=tp tracestate=ts tag=a"},
		{Headers{Drop: true}, "traceparent=tp tracestate=ts"},
		{Headers{Only: []string{"tag"}}, "traceparent=tp tracestate=ts tag=a"},
		{Headers{Only: []string{}}, "traceparent=tp tracestate=ts"},
	} {
		if got := renderHeaders(outputHeaders(c.policy, in)); got != c.want {
			t.Errorf("%+v: %s, want %s", c.policy, got, c.want)
		}
	}
	if got := outputHeaders(Headers{Drop: true}, recordHeaders("tenant", "acme")); got != nil {
		t.Errorf("drop without trace context: %v, want nil", got)
	}
}

// TestTracingOffCostsNothing: without a tracer a message's span is nil and
// allocates nothing, and headers: drop allocates nothing for a record
// without trace context.
func TestTracingOffCostsNothing(t *testing.T) {
	r := &handler{p: &Pipeline{Name: "p"}}
	in := inputRecord{headers: recordHeaders("traceparent", "tp", "tenant", "acme")}
	meta := processors.Meta{Topic: "in", Partition: 1, Offset: 2}
	noTrace := recordHeaders("tenant", "acme", "tag", "a")
	allocs := testing.AllocsPerRun(100, func() {
		span := r.startSpan(nil, meta, &in)
		span.retried(nil, 1)
		span.held("", nil)
		span.processed(nil, 1)
		span.deadLettered("", "", nil, 1)
		span.end()
		if outputHeaders(Headers{Drop: true}, noTrace) != nil {
			t.Fatal("headers left")
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per message with tracing off, want 0", allocs)
	}
	if got := renderHeaders(in.headers); got != "traceparent=tp tenant=acme" {
		t.Fatalf("tracing off changed the input's headers: %s", got)
	}
}
