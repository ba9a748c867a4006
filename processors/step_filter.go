package processors

import "context"

// filter keeps the messages for which its condition is true; the others are
// dropped and counted as filtered.
//
//   - filter: event_type != "heartbeat"
type filter struct {
	cond *Expr
}

// NewFilter builds a filter step.
func NewFilter(spec *Spec) (Step, error) {
	cond := CompileExpr(spec.Config, spec.Env, true)
	return &filter{cond: cond}, nil
}

func (f *filter) Process(_ context.Context, m *Message) (Result, error) {
	keep, err := f.cond.EvalBool(m)
	if err != nil {
		return Drop, err
	}
	if !keep {
		return Drop, nil
	}
	return Continue, nil
}
