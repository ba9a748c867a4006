package tracing_test

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/internal/tracing"
)

func TestEnabled(t *testing.T) {
	for _, c := range []struct {
		name     string
		env      map[string]string
		protocol string // "" is off
		wantErr  string
	}{
		{name: "nothing set"},
		{name: "endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, protocol: "http/protobuf"},
		{name: "traces endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, protocol: "http/protobuf"},
		{name: "exporter otlp", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, protocol: "http/protobuf"},
		{name: "exporter none beats endpoint", env: map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}},
		{name: "sdk disabled beats all", env: map[string]string{"OTEL_SDK_DISABLED": "TRUE", "OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}},
		{name: "sdk disabled false", env: map[string]string{"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "otlp"}, protocol: "http/protobuf"},
		{name: "http/protobuf", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, protocol: "http/protobuf"},
		{name: "unknown exporter", env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, wantErr: "otlp only"},
		{name: "grpc", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, protocol: "grpc"},
		{name: "http/json", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, wantErr: "over http/protobuf or grpc"},
		{name: "traces protocol wins", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, protocol: "http/protobuf"},
		{name: "protocol of tracing off", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			on, protocol, err := tracing.Enabled(func(k string) string { return c.env[k] })
			switch {
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want one saying %q", err, c.wantErr)
			case c.wantErr == "" && err != nil:
				t.Fatal(err)
			case on != (c.protocol != "") || protocol != c.protocol:
				t.Fatalf("Enabled = %v, %q; want protocol %q", on, protocol, c.protocol)
			}
		})
	}
}

// TestStartOff: with no OTEL_* variable set, Start returns the nil
// provider, whose tracer is nil and whose shutdown does nothing.
func TestStartOff(t *testing.T) {
	for _, k := range []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		t.Setenv(k, "")
	}
	p, err := tracing.Start(t.Context())
	if err != nil || p != nil {
		t.Fatalf("Start = %v, %v; want nil, nil", p, err)
	}
	if p.Tracer() != nil || p.TracerProvider() != nil || p.ServiceName() != "" || p.Protocol() != "" {
		t.Fatal("the nil provider has a tracer")
	}
	if err := p.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestStartExports: with the endpoint set, a span reaches the collector by
// Shutdown at the latest, under the environment's service name.
func TestStartExports(t *testing.T) {
	col := testkit.NewOTLPCollector(t)
	t.Setenv("OTEL_SDK_DISABLED", "")
	t.Setenv("OTEL_TRACES_EXPORTER", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", col.URL())
	t.Setenv("OTEL_SERVICE_NAME", "sluice-test")
	t.Setenv("OTEL_TRACES_SAMPLER", "always_on")
	p, err := tracing.Start(t.Context(), tracing.WithServiceVersion("v0.0.0-test"))
	if err != nil {
		t.Fatal(err)
	}
	if p.ServiceName() != "sluice-test" || p.Protocol() != "http/protobuf" {
		t.Errorf("provider of service %q over %q, want sluice-test over http/protobuf", p.ServiceName(), p.Protocol())
	}
	_, span := p.Tracer().Start(context.Background(), "probe")
	id := span.SpanContext().TraceID()
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	spans := col.Spans()
	if len(spans) != 1 {
		t.Fatalf("collector got %d spans, want 1", len(spans))
	}
	s := spans[0]
	if s.Span.GetName() != "probe" || hex.EncodeToString(s.Span.GetTraceId()) != id.String() || s.Service != "sluice-test" {
		t.Fatalf("collector got span %q trace %x of service %q; want probe, %s, sluice-test", s.Span.GetName(), s.Span.GetTraceId(), s.Service, id)
	}
}

func TestRecordHeadersCarrier(t *testing.T) {
	hs := tracing.RecordHeaders{
		{Key: []byte("traceparent"), Value: []byte("a")},
		{Key: []byte("tenant"), Value: []byte("acme")},
		{Key: []byte("traceparent"), Value: []byte("b")},
		{Key: []byte("tracestate"), Value: []byte("k=v")},
	}
	if got := hs.Get("traceparent"); got != "a" {
		t.Fatalf("Get = %q, want the first, a", got)
	}
	if got := strings.Join(hs.Keys(), ","); got != "traceparent,tenant,traceparent,tracestate" {
		t.Fatalf("Keys = %s", got)
	}
	hs.Set("traceparent", "c")
	hs.Set("baggage", "x")
	if got := render(hs); got != "traceparent=c tenant=acme tracestate=k=v baggage=x" {
		t.Fatalf("after Set: %s", got)
	}
}

// TestInject: the span's context replaces the headers' trace context, its
// tracestate included; a context without a span leaves them alone.
func TestInject(t *testing.T) {
	const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	hs := tracing.RecordHeaders{
		{Key: []byte("traceparent"), Value: []byte(parent)},
		{Key: []byte("tracestate"), Value: []byte("old=1")},
		{Key: []byte("tenant"), Value: []byte("acme")},
	}
	tracing.Inject(context.Background(), &hs)
	if got := render(hs); got != "traceparent="+parent+" tracestate=old=1 tenant=acme" {
		t.Fatalf("Inject without a span changed the headers: %s", got)
	}
	remote := trace.SpanContextFromContext(tracing.Extract(context.Background(), &hs))
	if !remote.IsValid() || remote.TraceID().String() != "0af7651916cd43dd8448eb211c80319c" {
		t.Fatalf("extracted %v", remote)
	}
	child := trace.NewSpanContext(trace.SpanContextConfig{TraceID: remote.TraceID(), SpanID: trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: trace.FlagsSampled})
	tracing.Inject(trace.ContextWithSpanContext(context.Background(), child), &hs)
	if got := render(hs); got != "traceparent=00-0af7651916cd43dd8448eb211c80319c-0102030405060708-01 tenant=acme" {
		t.Fatalf("after Inject: %s", got)
	}
}

func TestMapHeadersCarrier(t *testing.T) {
	h := tracing.MapHeaders{}
	h.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	sc := trace.SpanContextFromContext(tracing.Extract(context.Background(), h))
	if sc.SpanID().String() != "b7ad6b7169203331" || len(h.Keys()) != 1 {
		t.Fatalf("extracted %v from %v", sc, h)
	}
}

func render(hs []sarama.RecordHeader) string {
	var out []string
	for _, h := range hs {
		out = append(out, string(h.Key)+"="+string(h.Value))
	}
	return strings.Join(out, " ")
}

// TestStartGRPCUnreachable: the grpc protocol builds its exporter without
// connecting, and a collector that is not there costs a shutdown no more
// than its deadline, which it reports.
func TestStartGRPCUnreachable(t *testing.T) {
	t.Setenv("OTEL_SDK_DISABLED", "")
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	p, err := tracing.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if p.Protocol() != "grpc" {
		t.Fatalf("protocol %q, want grpc", p.Protocol())
	}
	_, span := p.Tracer().Start(context.Background(), "lost")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	began := time.Now()
	err = p.Shutdown(ctx)
	if waited := time.Since(began); waited > 10*time.Second {
		t.Fatalf("shutdown took %s with a 2s deadline", waited)
	}
	if err == nil {
		t.Fatal("shutdown reported no error though the span could not be exported")
	}
}
