package tracing

import (
	"context"
	"slices"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// The W3C trace context headers. Kafka header names are case-sensitive;
// these are the lower-case names the W3C specification and the OTel Kafka
// instrumentations write.
const (
	HeaderTraceparent = "traceparent"
	HeaderTracestate  = "tracestate"
)

// IsContextHeader reports whether name is a W3C trace context header.
func IsContextHeader(name []byte) bool {
	return string(name) == HeaderTraceparent || string(name) == HeaderTracestate
}

// RecordHeaders carries trace context in sarama record headers, which may
// repeat a name: Get reads the first, Set replaces the first and removes
// the others, or appends.
type RecordHeaders []sarama.RecordHeader

var _ propagation.TextMapCarrier = (*RecordHeaders)(nil)

// Get returns the value of the first header named key, "" when none is.
func (h *RecordHeaders) Get(key string) string {
	for _, r := range *h {
		if string(r.Key) == key {
			return string(r.Value)
		}
	}
	return ""
}

// Set makes value the one header named key.
func (h *RecordHeaders) Set(key, value string) {
	i := slices.IndexFunc(*h, func(r sarama.RecordHeader) bool { return string(r.Key) == key })
	if i < 0 {
		*h = append(*h, sarama.RecordHeader{Key: []byte(key), Value: []byte(value)})
		return
	}
	(*h)[i].Value = []byte(value)
	rest := slices.DeleteFunc((*h)[i+1:], func(r sarama.RecordHeader) bool { return string(r.Key) == key })
	*h = (*h)[:i+1+len(rest)]
}

// Keys returns the header names, in order, repeated ones repeated.
func (h *RecordHeaders) Keys() []string {
	keys := make([]string, len(*h))
	for i, r := range *h {
		keys[i] = string(r.Key)
	}
	return keys
}

// MapHeaders carries trace context in goka's headers.
type MapHeaders goka.Headers

var _ propagation.TextMapCarrier = MapHeaders(nil)

// Get returns the value of the header named key, "" when there is none.
func (h MapHeaders) Get(key string) string { return string(h[key]) }

// Set sets the header named key.
func (h MapHeaders) Set(key, value string) { h[key] = []byte(value) }

// Keys returns the header names.
func (h MapHeaders) Keys() []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	return keys
}

// Extract returns ctx with the remote span context the carrier's
// traceparent and tracestate describe; ctx itself when they are missing or
// malformed.
func Extract(ctx context.Context, c propagation.TextMapCarrier) context.Context {
	return propagation.TraceContext{}.Extract(ctx, c)
}

// Inject writes the trace context of ctx's span to the carrier, replacing
// the traceparent and tracestate it had. It writes nothing when ctx has no
// valid span context.
func Inject(ctx context.Context, h *RecordHeaders) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return
	}
	// The propagator writes tracestate only when the span has one: an old
	// one must not outlive the traceparent it went with.
	*h = slices.DeleteFunc(*h, func(r sarama.RecordHeader) bool { return string(r.Key) == HeaderTracestate })
	propagation.TraceContext{}.Inject(ctx, h)
}
