package dlq

import (
	"fmt"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"github.com/sluicehq/sluice/internal/render"
)

// FilterEnv is what a --filter expression sees. Topic, Partition, Offset and
// Timestamp are the source message's, from the sluice.source.* headers.
type FilterEnv struct {
	Pipeline    string            `expr:"pipeline"`
	Stage       string            `expr:"stage"`
	Kind        string            `expr:"kind"`
	Message     string            `expr:"message"`
	Topic       string            `expr:"topic"`
	Partition   int               `expr:"partition"`
	Offset      int               `expr:"offset"`
	Timestamp   int               `expr:"timestamp"` // Unix ms
	Attempts    int               `expr:"attempts"`
	SchemaID    int               `expr:"schema_id"`
	ReplayCount int               `expr:"replay_count"`
	Key         string            `expr:"key"`   // "" for a null key
	Value       any               `expr:"value"` // decoded value, nil when null or binary
	Headers     map[string]string `expr:"headers"`
}

// FilterNames lists the names a filter may use, for help texts.
const FilterNames = "pipeline, stage, kind, message, topic, partition, offset, timestamp (Unix ms), " +
	"attempts, schema_id, replay_count, key, value (decoded, or nil), headers (map)"

// Filter is a compiled boolean expression over FilterEnv. It is safe for
// use by one goroutine at a time.
type Filter struct {
	src     string
	program *vm.Program
	vm      vm.VM
	value   bool // the expression reads value, so letters must be decoded
}

// CompileFilter compiles an expr-lang boolean expression over FilterEnv, so
// that an unknown name or a type error is reported before anything is read.
func CompileFilter(src string) (*Filter, error) {
	p, err := expr.Compile(src, expr.Env(FilterEnv{}), expr.AsBool())
	if err != nil {
		return nil, fmt.Errorf("compiling filter %q: %w", src, err)
	}
	var v valueVisitor
	root := p.Node()
	ast.Walk(&root, &v)
	return &Filter{src: src, program: p, value: v.found}, nil
}

// valueVisitor notes whether an expression reads the decoded value.
type valueVisitor struct{ found bool }

func (v *valueVisitor) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok && id.Value == "value" {
		v.found = true
	}
}

// UsesValue reports whether the expression reads value, so that callers
// decode values (which may ask the registry) only when needed.
func (f *Filter) UsesValue() bool { return f.value }

// String returns the expression's source.
func (f *Filter) String() string { return f.src }

// Match reports whether env satisfies the filter.
func (f *Filter) Match(env *FilterEnv) (bool, error) {
	out, err := f.vm.Run(f.program, env)
	if err != nil {
		return false, fmt.Errorf("evaluating filter %q: %w", f.src, err)
	}
	ok, _ := out.(bool) // AsBool guarantees the type
	return ok, nil
}

// Env returns the filter environment of l with its decoded value v.
func (l *Letter) Env(v render.Value) *FilterEnv {
	return &FilterEnv{
		Pipeline: l.Pipeline, Stage: l.Stage, Kind: l.Kind, Message: l.Message,
		Topic: l.SourceTopic, Partition: int(l.SourcePartition), Offset: int(l.SourceOffset),
		Timestamp: int(l.SourceTimestamp), Attempts: l.Attempts, SchemaID: l.SchemaID,
		ReplayCount: l.ReplayCount, Key: string(l.Record.Key), Value: v.Any(), Headers: l.Headers,
	}
}
