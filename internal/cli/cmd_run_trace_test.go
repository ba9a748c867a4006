package cli

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/testkit"
)

// TestRunTracesAndFlushesOnStop: `sluice run` with OTEL_EXPORTER_OTLP_ENDPOINT
// set traces each message, and a graceful stop exports the spans still
// batched (the batch delay is longer than the test) before it exits 0.
func TestRunTracesAndFlushesOnStop(t *testing.T) {
	col := testkit.NewOTLPCollector(t)
	for k, v := range map[string]string{
		"OTEL_SDK_DISABLED":                  "",
		"OTEL_TRACES_EXPORTER":               "",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "",
		"OTEL_EXPORTER_OTLP_PROTOCOL":        "",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "",
		"OTEL_SERVICE_NAME":                  "",
		"OTEL_RESOURCE_ATTRIBUTES":           "",
		"OTEL_TRACES_SAMPLER":                "",
		"OTEL_EXPORTER_OTLP_ENDPOINT":        col.URL(),
		"OTEL_BSP_SCHEDULE_DELAY":            "600000",
	} {
		t.Setenv(k, v)
	}
	brokers := testkit.Brokers(t, kfake.AllowAutoTopicCreation())
	u := testkit.Unique("traced")
	in := u + "-in"
	file := emitPipelines(t, brokers, u)
	testkit.CreateTopic(t, brokers, in, 1, nil)
	const traceID = "0af7651916cd43dd8448eb211c80319c"
	var records []*kgo.Record
	for i := range 3 {
		records = append(records, &kgo.Record{Topic: in, Key: []byte(fmt.Sprint(i)), Value: []byte(`{}`),
			Headers: []kgo.RecordHeader{{Key: "traceparent", Value: []byte("00-" + traceID + "-b7ad6b7169203331-01")}}})
	}
	testkit.Produce(t, brokers, records)

	run := startRun(t, "run", "-f", file)
	testkit.WaitLagZero(t, brokers, u, in, time.Minute)
	if n := len(col.Spans()); n != 0 {
		t.Fatalf("%d spans exported before the stop; the batch delay should have held them", n)
	}
	run.cancel()
	select {
	case <-run.done:
	case <-time.After(time.Minute):
		t.Fatal("sluice run did not stop within 1m of being cancelled")
	}
	if run.code != ExitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", run.code, run.stderr.String())
	}
	if log := run.stderr.String(); !strings.Contains(log, "tracing on") || !strings.Contains(log, "service=sluice") {
		t.Errorf("stderr does not say tracing is on for service sluice:\n%s", log)
	}
	spans := col.Spans()
	if len(spans) != 3 {
		t.Fatalf("collector got %d spans at the stop, want 3", len(spans))
	}
	for _, s := range spans {
		if id := hex.EncodeToString(s.Span.GetTraceId()); id != traceID || s.Service != "sluice" {
			t.Errorf("span %q in trace %s of service %q, want trace %s of sluice", s.Span.GetName(), id, s.Service, traceID)
		}
	}
}
