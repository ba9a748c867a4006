// Package tracing sets sluice's OpenTelemetry tracing up from the standard
// OTEL_* environment variables, exports spans over OTLP, and carries W3C
// trace context (traceparent, tracestate) in Kafka record headers.
//
// Tracing is off unless the environment turns it on (see Enabled); when it
// is off Start returns a nil *Provider, whose Tracer is nil, and a pipeline
// given a nil tracer makes no OpenTelemetry call at all. Nothing here sets
// OpenTelemetry's global tracer provider: the binary may. It depends on no
// other sluice package.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// The environment variables that decide whether tracing is on, and how
// spans are exported. The OTel SDK reads the other standard ones itself:
// OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG),
// OTEL_BSP_*, OTEL_EXPORTER_OTLP_(TRACES_)HEADERS, _TIMEOUT, _COMPRESSION,
// _CERTIFICATE, _CLIENT_CERTIFICATE, _CLIENT_KEY, _INSECURE.
const (
	EnvSDKDisabled    = "OTEL_SDK_DISABLED"
	EnvTracesExporter = "OTEL_TRACES_EXPORTER"
	EnvEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvProtocol       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	EnvTracesProtocol = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
)

// DefaultServiceName is the service.name of sluice's spans when neither
// OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES names one.
const DefaultServiceName = "sluice"

// ScopeName is the instrumentation scope of sluice's spans.
const ScopeName = "github.com/sluicehq/sluice"

// The OTLP protocols sluice exports with.
const (
	ProtocolHTTP = "http/protobuf"
	ProtocolGRPC = "grpc"
)

// Enabled reports whether the environment read through getenv turns tracing
// on, and with which OTLP protocol: OTEL_SDK_DISABLED=true turns it off
// whatever else is set; OTEL_TRACES_EXPORTER=otlp turns it on and =none
// off; unset, tracing is on when OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is. The protocol is
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, else
// http/protobuf. An exporter or protocol sluice does not have is an error,
// not a silent off.
func Enabled(getenv func(string) string) (on bool, protocol string, err error) {
	if strings.EqualFold(strings.TrimSpace(getenv(EnvSDKDisabled)), "true") {
		return false, "", nil
	}
	on = getenv(EnvEndpoint) != "" || getenv(EnvTracesEndpoint) != ""
	if v := strings.TrimSpace(getenv(EnvTracesExporter)); v != "" {
		on = false
		for _, name := range strings.Split(v, ",") {
			switch name = strings.TrimSpace(name); name {
			case "otlp":
				on = true
			case "none":
			default:
				return false, "", fmt.Errorf("%s=%s: sluice exports traces with otlp only (or none)", EnvTracesExporter, v)
			}
		}
	}
	if !on {
		return false, "", nil
	}
	protocol = getenv(EnvTracesProtocol)
	if protocol == "" {
		protocol = getenv(EnvProtocol)
	}
	switch protocol {
	case "":
		return true, ProtocolHTTP, nil
	case ProtocolHTTP, ProtocolGRPC:
		return true, protocol, nil
	}
	return false, "", fmt.Errorf("OTLP protocol %q: sluice exports traces over %s or %s", protocol, ProtocolHTTP, ProtocolGRPC)
}

// Provider is sluice's tracer provider: spans are batched and exported over
// OTLP. A nil *Provider is tracing off.
type Provider struct {
	tp       *sdktrace.TracerProvider
	service  string
	protocol string
}

// Option configures Start.
type Option func(*settings)

type settings struct {
	serviceVersion string
}

// WithServiceVersion sets the service.version resource attribute.
func WithServiceVersion(v string) Option {
	return func(s *settings) { s.serviceVersion = v }
}

// Start turns tracing on when the process environment says so (see
// Enabled), and returns nil, tracing off, otherwise. It does no I/O: the
// exporter connects when it first exports. Shut the provider down to flush
// the spans still batched.
func Start(ctx context.Context, opts ...Option) (*Provider, error) {
	on, protocol, err := Enabled(os.Getenv)
	if err != nil || !on {
		return nil, err
	}
	var s settings
	for _, o := range opts {
		o(&s)
	}
	// The exporter reads its endpoint, headers, timeout, compression and
	// certificates from the OTEL_EXPORTER_OTLP_* variables.
	var exp sdktrace.SpanExporter
	if protocol == ProtocolGRPC {
		exp, err = otlptracegrpc.New(ctx)
	} else {
		exp, err = otlptracehttp.New(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("starting the OTLP trace exporter (%s): %w", protocol, err)
	}
	attrs := []attribute.KeyValue{semconv.ServiceName(DefaultServiceName)}
	if s.serviceVersion != "" {
		attrs = append(attrs, semconv.ServiceVersion(s.serviceVersion))
	}
	// Later detectors win: the environment's service name over the default.
	res, err := resource.New(ctx,
		resource.WithAttributes(attrs...),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	// The sampler is the SDK's: OTEL_TRACES_SAMPLER, by default
	// parentbased_always_on (a producer's sampling decision is kept).
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
	)
	service := DefaultServiceName
	if v, ok := res.Set().Value(semconv.ServiceNameKey); ok {
		service = v.AsString()
	}
	return &Provider{tp: tp, service: service, protocol: protocol}, nil
}

// Tracer returns sluice's tracer, nil when p is nil (tracing off).
func (p *Provider) Tracer() trace.Tracer {
	if p == nil {
		return nil
	}
	return p.tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL))
}

// TracerProvider returns the OpenTelemetry tracer provider, nil when p is
// nil; a binary may make it the global one for its custom steps.
func (p *Provider) TracerProvider() trace.TracerProvider {
	if p == nil {
		return nil
	}
	return p.tp
}

// ServiceName is the service.name of the spans, "" when p is nil.
func (p *Provider) ServiceName() string {
	if p == nil {
		return ""
	}
	return p.service
}

// Protocol is the OTLP protocol spans are exported with, "" when p is nil.
func (p *Provider) Protocol() string {
	if p == nil {
		return ""
	}
	return p.protocol
}

// Shutdown exports the spans still batched and stops the exporter; ctx
// bounds how long it waits for the collector. A nil p has nothing to do.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	if err := p.tp.Shutdown(ctx); err != nil {
		return fmt.Errorf("flushing traces: %w", err)
	}
	return nil
}
