package pipeline

import (
	"strconv"

	"github.com/lovoo/goka"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluicehq/sluice/internal/tracing"
	"github.com/sluicehq/sluice/processors"
)

// How a message is traced. With a tracer (Options.Tracer), each message gets
// one consumer span, from its consumption through its steps to the hand-off
// of its outputs or dead letter, the child of the producer's span its
// traceparent header names; its outputs and dead letters carry the new
// span's traceparent. Without one, nothing here calls OpenTelemetry: the
// input's traceparent and tracestate travel unchanged (see outputHeaders).

// Span attributes of sluice's own (the messaging.* ones are OpenTelemetry's
// semantic conventions).
const (
	attrPipeline   = attribute.Key("sluice.pipeline")
	attrOutcome    = attribute.Key("sluice.outcome")
	attrAttempts   = attribute.Key("sluice.attempts")
	attrOutputs    = attribute.Key("sluice.outputs")
	attrErrorStage = attribute.Key("sluice.error.stage")
	attrErrorKind  = attribute.Key("sluice.error.kind")
)

// Outcomes a span records besides processed, filtered and dead_lettered.
const (
	// spanInterrupted: the processor stopped while the message was tried or
	// held; it is not committed and comes again, with a span of its own.
	spanInterrupted = "interrupted"
)

// messageSpan is the span of one message; nil when tracing is off, and then
// every method does nothing.
type messageSpan struct {
	span    trace.Span
	outcome string
}

// startSpan starts the span of the message at meta and makes in.headers
// carry its trace context, in place of the producer's, to the message's
// outputs and dead letters. Tracing off, it returns nil.
func (r *handler) startSpan(ctx goka.Context, meta processors.Meta, in *inputRecord) *messageSpan {
	if r.tracer == nil {
		return nil
	}
	headers := tracing.RecordHeaders(in.headers)
	parent := tracing.Extract(ctx.Context(), &headers)
	sctx, span := r.tracer.Start(parent, "process "+meta.Topic,
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			semconv.MessagingSystemKafka,
			semconv.MessagingOperationTypeProcess,
			semconv.MessagingOperationName("process"),
			semconv.MessagingDestinationName(meta.Topic),
			semconv.MessagingDestinationPartitionID(strconv.Itoa(int(meta.Partition))),
			semconv.MessagingKafkaOffset(int(meta.Offset)),
			semconv.MessagingConsumerGroupName(r.p.Group),
			attrPipeline.String(r.p.Name),
		))
	tracing.Inject(sctx, &headers)
	in.headers = headers
	return &messageSpan{span: span}
}

// retried notes a failed attempt that is tried again.
func (s *messageSpan) retried(f *attemptFailure, attempt int) {
	if s == nil {
		return
	}
	s.span.AddEvent("retry", trace.WithAttributes(
		attrErrorStage.String(f.stage), attrAttempts.Int(attempt), attribute.String("error", f.err.Error())))
}

// held notes that the message started waiting: for a dependency, or for the
// dead-letter breaker to close.
func (s *messageSpan) held(why string, f *attemptFailure) {
	if s == nil {
		return
	}
	s.span.AddEvent("held", trace.WithAttributes(
		attribute.String("reason", why), attrErrorStage.String(f.stage), attribute.String("error", f.err.Error())))
}

// processed records the outcome of a message that went through.
func (s *messageSpan) processed(res *attemptResult, attempts int) {
	if s == nil {
		return
	}
	s.outcome = outcomeName(res.outcome())
	s.span.SetAttributes(attrOutputs.Int(len(res.emits)), attrAttempts.Int(attempts))
}

// deadLettered records the failure of a message that was dead-lettered.
func (s *messageSpan) deadLettered(stage, kind string, err error, attempts int) {
	if s == nil {
		return
	}
	s.outcome = outcomeName(outcomeDeadLettered)
	s.span.SetAttributes(attrErrorStage.String(stage), attrErrorKind.String(kind), attrAttempts.Int(attempts),
		semconv.ErrorTypeKey.String(kind))
	s.span.RecordError(err)
	s.span.SetStatus(codes.Error, stage+": "+err.Error())
}

// end ends the span with its outcome; a message that got none was
// interrupted (the callback panicked to leave it uncommitted).
func (s *messageSpan) end() {
	if s == nil {
		return
	}
	if s.outcome == "" {
		s.outcome = spanInterrupted
	}
	s.span.SetAttributes(attrOutcome.String(s.outcome))
	s.span.End()
}

// outcomeName names an outcome as Counts does.
func outcomeName(o outcome) string {
	switch o {
	case outcomeProcessed:
		return "processed"
	case outcomeFiltered, outcomeReplayForOther:
		return "filtered"
	case outcomeDeadLettered:
		return "dead_lettered"
	}
	return "unknown"
}
