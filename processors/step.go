package processors

import (
	"context"
	"errors"
	"fmt"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/processors/config"
)

// Step is one stage of a pipeline. Process is called for one message at a
// time per partition; a step shared by partitions must be safe for concurrent use.
type Step interface {
	Process(ctx context.Context, m *Message) (Result, error)
}

// StepFunc adapts a function to Step.
type StepFunc func(ctx context.Context, m *Message) (Result, error)

// Process calls f.
func (f StepFunc) Process(ctx context.Context, m *Message) (Result, error) { return f(ctx, m) }

// Spec is what a factory gets to build a step: its configuration and the
// types visible to expressions at its place in the pipeline.
type Spec struct {
	// Type is the registered step type, which is also the dead-letter stage.
	Type string
	// Config is the YAML value under the step's type key.
	Config *config.Node
	// Env describes the message at this step; a step that changes the value's
	// type or adds variables updates it for the steps after it.
	Env *Env
	// SchemaFile parses an Avro schema file named in the config, relative to
	// the configuration file.
	SchemaFile func(path string) (avro.Schema, error)
}

// Errorf records a configuration problem at the step's config.
func (s *Spec) Errorf(format string, args ...any) {
	s.Config.Errorf(format, args...)
}

// NewSpec returns the spec of a step of type typ configured by cfg, at a
// place in a pipeline where the value has type value (nil: a value of
// unknown shape), with no state, variables, outputs or tables, and no schema
// files. It is how a test calls a factory directly; a test of a step that
// needs more sets the fields of Env (and SchemaFile) before the call.
func NewSpec(typ string, cfg *config.Node, value *Type) *Spec {
	return &Spec{
		Type:   typ,
		Config: cfg,
		Env:    &Env{Value: value, Vars: map[string]*Type{}, Outputs: map[string]bool{}, Tables: map[string]*Type{}},
		SchemaFile: func(path string) (avro.Schema, error) {
			return nil, fmt.Errorf("reading schema %s: this spec has no schema files", path)
		},
	}
}

// Err returns the configuration problems the factory recorded (Errorf, and
// the getters of Config), one "file:line:col: message" a line, or nil.
func (s *Spec) Err() error { return s.Config.Reporter().Err() }

// Factory builds a step from its spec. It reports configuration problems on
// spec.Config (so all are shown at once) and returns an error only when it
// cannot build the step at all. It must not do I/O.
type Factory func(spec *Spec) (Step, error)

// ErrTransient marks an error worth retrying: the runtime retries the message
// with backoff, keeping the key's order, and dead-letters it as "exhausted"
// when the attempts run out. (A dependency that is down, codecs.ErrUnavailable,
// is held instead: retried until it is back, never dead-lettered.)
var ErrTransient = errors.New("transient")

// Transient wraps err so that errors.Is(err, ErrTransient) holds.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &transientError{err: err}
}

type transientError struct{ err error }

func (e *transientError) Error() string        { return e.err.Error() }
func (e *transientError) Unwrap() error        { return e.err }
func (e *transientError) Is(target error) bool { return target == ErrTransient }

// ErrInvalid marks an error from a failed check; the runtime dead-letters it
// as poison.
var ErrInvalid = errors.New("invalid")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
