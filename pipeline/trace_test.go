package pipeline_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/internal/tracing"
	"github.com/sluicehq/sluice/pipeline"
)

// startTracing turns tracing on the way `sluice run` does, from the
// environment, exporting to an in-process OTLP collector.
func startTracing(t *testing.T) (*tracing.Provider, *testkit.OTLPCollector) {
	t.Helper()
	col := testkit.NewOTLPCollector(t)
	for k, v := range map[string]string{
		"OTEL_SDK_DISABLED":                  "",
		"OTEL_TRACES_EXPORTER":               "",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "",
		"OTEL_EXPORTER_OTLP_PROTOCOL":        "",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "",
		"OTEL_EXPORTER_OTLP_ENDPOINT":        col.URL(),
		"OTEL_SERVICE_NAME":                  "sluice-trace-test",
		"OTEL_TRACES_SAMPLER":                "parentbased_always_on",
		"OTEL_BSP_SCHEDULE_DELAY":            "100",
	} {
		t.Setenv(k, v)
	}
	p, err := tracing.Start(t.Context())
	if err != nil || p == nil {
		t.Fatalf("starting tracing: %v, %v", p, err)
	}
	return p, col
}

// traceConfig is a JSON pipeline that drops its input's headers, so that
// the trace context is seen to travel all the same: amounts below zero are
// dead letters.
func traceConfig(t *testing.T, brokers []string, u string) *pipeline.Config {
	t.Helper()
	src := fmt.Sprintf(`version: 1
kafka:
  brokers: %[1]s
  partitions: 1
  heartbeat: 100ms
  session_timeout: 6s
pipelines:
  - name: %[2]s
    input: {topic: %[2]s-in, codec: json}
    dead_letter: %[2]s-dlq
    headers: drop
    outputs:
      out: {topic: %[2]s-out, codec: json}
    steps:
      - validate:
          - check: amount >= 0
            message: amount must not be negative
      - emit: out
`, strings.Join(brokers, ","), u)
	cfg, err := pipeline.Parse("trace.yaml", []byte(testkit.SecureConfig(src)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestTracedMessages runs a pipeline with tracing on over messages that
// carry a producer's traceparent or none, sampled or not, processed or
// dead-lettered. The collector gets one span per sampled message, the
// child of the producer's span in the producer's trace, and each output and
// dead letter carries that span's traceparent (and the producer's
// tracestate).
func TestTracedMessages(t *testing.T) {
	provider, col := startTracing(t)
	brokers := testkit.Brokers(t)
	u := testkit.Unique("trace")
	cfg := traceConfig(t, brokers, u)
	testkit.CreateTopic(t, brokers, u+"-in", 1, nil)

	const (
		traceA = "0af7651916cd43dd8448eb211c80319c"
		traceB = "4bf92f3577b34da6a3ce929d0e0e4736"
		traceC = "5ce929d0e0e4736a3ce929d0e0e47361"
		parent = "b7ad6b7169203331"
	)
	tp := func(trace, flags string) []kgo.RecordHeader {
		return []kgo.RecordHeader{{Key: "traceparent", Value: []byte("00-" + trace + "-" + parent + "-" + flags)}}
	}
	records := []*kgo.Record{
		// 0: processed, in trace A, with a tracestate to pass on.
		{Key: []byte("k0"), Value: []byte(`{"amount":1}`), Headers: append(tp(traceA, "01"),
			kgo.RecordHeader{Key: "tracestate", Value: []byte("vendor=x")}, kgo.RecordHeader{Key: "tenant", Value: []byte("acme")})},
		// 1: dead-lettered by the validate step, in trace B.
		{Key: []byte("k1"), Value: []byte(`{"amount":-1}`), Headers: tp(traceB, "01")},
		// 2: processed, no traceparent: a trace of its own.
		{Key: []byte("k2"), Value: []byte(`{"amount":2}`)},
		// 3: undecodable, in trace A too.
		{Key: []byte("k3"), Value: []byte(`oops`), Headers: tp(traceA, "01")},
		// 4: processed, the producer did not sample trace C: no span.
		{Key: []byte("k4"), Value: []byte(`{"amount":4}`), Headers: tp(traceC, "00")},
	}
	for _, r := range records {
		r.Topic = u + "-in"
	}
	testkit.Produce(t, brokers, records)

	rt, stop := startRuntime(t, cfg, pipeline.Options{Tracer: provider.Tracer()})
	want := pipeline.Counts{Consumed: 5, Processed: 3, DeadLettered: 2}
	if got := waitConsumed(t, rt, u, 5, time.Minute); got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
	stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := provider.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	// The spans, by the offset of their message.
	spans := map[int64]*tracepb.Span{}
	for _, s := range col.Spans() {
		off, ok := intAttr(s.Span, "messaging.kafka.offset")
		if !ok {
			t.Fatalf("span %q has no offset: %v", s.Span.GetName(), s.Span.GetAttributes())
		}
		if spans[off] != nil {
			t.Errorf("two spans for offset %d", off)
		}
		spans[off] = s.Span
		if s.Service != "sluice-trace-test" {
			t.Errorf("span of offset %d from service %q", off, s.Service)
		}
		if s.Span.GetName() != "process "+u+"-in" || s.Span.GetKind() != tracepb.Span_SPAN_KIND_CONSUMER {
			t.Errorf("span of offset %d is %q, kind %v; want a consumer span \"process %s-in\"", off, s.Span.GetName(), s.Span.GetKind(), u)
		}
		for k, v := range map[string]string{
			"messaging.system":                   "kafka",
			"messaging.destination.name":         u + "-in",
			"messaging.destination.partition.id": "0",
			"messaging.consumer.group.name":      u,
			"sluice.pipeline":                    u,
		} {
			if got := strAttr(s.Span, k); got != v {
				t.Errorf("span of offset %d: %s = %q, want %q", off, k, got, v)
			}
		}
	}
	if len(spans) != 4 || spans[4] != nil {
		t.Fatalf("spans of offsets %v, want one for each of 0-3 (4's producer did not sample it)", keys(spans))
	}
	for off, w := range map[int64]struct {
		trace, outcome, stage string
		outputs               int64
	}{
		0: {trace: traceA, outcome: "processed", outputs: 1},
		1: {trace: traceB, outcome: "dead_lettered", stage: "validate"},
		2: {outcome: "processed", outputs: 1},
		3: {trace: traceA, outcome: "dead_lettered", stage: "decode"},
	} {
		s := spans[off]
		id, parentID := hex.EncodeToString(s.GetTraceId()), hex.EncodeToString(s.GetParentSpanId())
		switch {
		case w.trace != "" && (id != w.trace || parentID != parent):
			t.Errorf("span of offset %d in trace %s under span %s, want trace %s under the producer's span %s", off, id, parentID, w.trace, parent)
		case w.trace == "" && (parentID != "" || id == traceA || id == traceB):
			t.Errorf("span of offset %d (no traceparent) in trace %s under span %q, want a new trace", off, id, parentID)
		}
		if got := strAttr(s, "sluice.outcome"); got != w.outcome {
			t.Errorf("span of offset %d: outcome %q, want %q", off, got, w.outcome)
		}
		failed := s.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR
		if got := strAttr(s, "sluice.error.stage"); got != w.stage || failed != (w.stage != "") {
			t.Errorf("span of offset %d: error stage %q, status %v; want stage %q", off, got, s.GetStatus(), w.stage)
		}
		if w.stage != "" && !hasEvent(s, "exception") {
			t.Errorf("span of offset %d records no error", off)
		}
		if got, _ := intAttr(s, "sluice.outputs"); got != w.outputs {
			t.Errorf("span of offset %d: %d outputs, want %d", off, got, w.outputs)
		}
	}

	// Every output and dead letter carries its span's traceparent: trace
	// context goes through `headers: drop`, the other headers do not.
	spanParent := func(off int64) string {
		s := spans[off]
		return "00-" + hex.EncodeToString(s.GetTraceId()) + "-" + hex.EncodeToString(s.GetSpanId()) + "-01"
	}
	for _, r := range testkit.ReadAll(t, brokers, u+"-out", 3, time.Minute) {
		var got []string
		for _, h := range r.Headers {
			got = append(got, h.Key+"="+string(h.Value))
		}
		var want string
		switch string(r.Key) {
		case "k0":
			want = "traceparent=" + spanParent(0) + " tracestate=vendor=x"
		case "k2":
			want = "traceparent=" + spanParent(2)
		case "k4":
			// Not sampled: a span all the same (not exported), in the
			// producer's trace, and its decision passed on.
			tp, _ := testkit.Header(r, "traceparent")
			if len(got) == 1 && strings.HasPrefix(tp, "00-"+traceC+"-") && strings.HasSuffix(tp, "-00") && !strings.Contains(tp, parent) {
				continue
			}
			want = "traceparent=00-" + traceC + "-<a new span>-00"
		}
		if strings.Join(got, " ") != want {
			t.Errorf("output %s headers [%s], want [%s]", r.Key, strings.Join(got, " "), want)
		}
	}
	for _, d := range testkit.ReadAll(t, brokers, u+"-dlq", 2, time.Minute) {
		off := map[string]int64{"k1": 1, "k3": 3}[string(d.Key)]
		if got, _ := testkit.Header(d, "traceparent"); got != spanParent(off) {
			t.Errorf("dead letter %s: traceparent %q, want its span's %q", d.Key, got, spanParent(off))
		}
		if got := mustHeader(t, d, deadletter.HeaderSourceOffset); got != fmt.Sprint(off) {
			t.Errorf("dead letter %s from offset %s, want %d", d.Key, got, off)
		}
	}
}

func attr(s *tracepb.Span, key string) (v interface {
	GetStringValue() string
	GetIntValue() int64
}, ok bool) {
	for _, a := range s.GetAttributes() {
		if a.GetKey() == key {
			return a.GetValue(), true
		}
	}
	return nil, false
}

func strAttr(s *tracepb.Span, key string) string {
	if v, ok := attr(s, key); ok {
		return v.GetStringValue()
	}
	return ""
}

func intAttr(s *tracepb.Span, key string) (int64, bool) {
	if v, ok := attr(s, key); ok {
		return v.GetIntValue(), true
	}
	return 0, false
}

func hasEvent(s *tracepb.Span, name string) bool {
	for _, e := range s.GetEvents() {
		if e.GetName() == name {
			return true
		}
	}
	return false
}

func keys[V any](m map[int64]V) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
