package processors

import "context"

// validate runs checks in order; the first that is false fails the message,
// which is dead-lettered at stage "validate" with the check's message.
//
//   - validate:
//   - check: amount >= 0
//     message: amount must not be negative
type validate struct {
	checks []check
}

type check struct {
	cond    *Expr
	message string
}

// NewValidate builds a validate step.
func NewValidate(spec *Spec) (Step, error) {
	v := &validate{}
	for _, item := range spec.Config.List() {
		m := item.Map()
		if m == nil {
			continue
		}
		c := check{}
		if n := m.Need("check"); n != nil {
			c.cond = CompileExpr(n, spec.Env, true)
		}
		c.message = m.StringOr("message", "")
		m.Done()
		if c.message == "" && c.cond != nil {
			c.message = "check failed: " + c.cond.Source
		}
		v.checks = append(v.checks, c)
	}
	if len(v.checks) == 0 && spec.Config.IsList() {
		spec.Errorf("validate needs at least one check")
	}
	return v, nil
}

func (v *validate) Process(_ context.Context, m *Message) (Result, error) {
	for _, c := range v.checks {
		ok, err := c.cond.EvalBool(m)
		if err != nil {
			return Drop, err
		}
		if !ok {
			return Drop, invalidf("%s", c.message)
		}
	}
	return Continue, nil
}
