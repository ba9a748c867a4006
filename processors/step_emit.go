package processors

import "context"

// emit queues the current value for an output. The key is the message key
// unless a key expression is given.
//
//   - emit: stats
//   - emit: {to: stats, key: user_id}
type emit struct {
	output string
	key    *Expr
}

// NewEmit builds an emit step.
func NewEmit(spec *Spec) (Step, error) {
	e := &emit{}
	if spec.Config.IsMap() {
		m := spec.Config.Map()
		if n := m.Need("to"); n != nil {
			e.output = checkOutput(n.String(), n, spec.Env)
		}
		if n := m.Get("key"); n != nil {
			e.key = CompileExpr(n, spec.Env, false)
		}
		m.Done()
		return e, nil
	}
	e.output = checkOutput(spec.Config.String(), spec.Config, spec.Env)
	return e, nil
}

func (e *emit) Process(_ context.Context, m *Message) (Result, error) {
	return Continue, emitTo(m, e.output, e.key)
}

func emitTo(m *Message, output string, keyExpr *Expr) error {
	key := m.key
	if keyExpr != nil {
		k, err := keyExpr.EvalString(m)
		if err != nil {
			return err
		}
		key = k
	}
	m.Emit(output, key, m.value)
	return nil
}
