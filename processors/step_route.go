package processors

import (
	"context"
	"sort"
	"strings"

	"github.com/sluicehq/sluice/processors/config"
)

// route emits the current value to the output of the first case whose
// condition holds; a case without `when` always matches. When no case
// matches the message is dropped (filtered).
//
//   - route:
//   - when: amount >= 1000
//     to: huge
//   - to: normal
type route struct {
	cases []routeCase
}

type routeCase struct {
	when   *Expr // nil: always
	output string
}

// NewRoute builds a route step.
func NewRoute(spec *Spec) (Step, error) {
	r := &route{}
	for _, item := range spec.Config.List() {
		m := item.Map()
		if m == nil {
			continue
		}
		c := routeCase{}
		if n := m.Get("when"); n != nil {
			c.when = CompileExpr(n, spec.Env, true)
		}
		if n := m.Need("to"); n != nil {
			c.output = checkOutput(n.String(), n, spec.Env)
		}
		m.Done()
		r.cases = append(r.cases, c)
	}
	return r, nil
}

func (r *route) Process(_ context.Context, m *Message) (Result, error) {
	for _, c := range r.cases {
		if c.when != nil {
			ok, err := c.when.EvalBool(m)
			if err != nil {
				return Drop, err
			}
			if !ok {
				continue
			}
		}
		m.Emit(c.output, m.key, m.value)
		return Continue, nil
	}
	return Drop, nil
}

// checkOutput reports an output name the pipeline does not define.
func checkOutput(name string, n *config.Node, env *Env) string {
	if name != "" && !env.Outputs[name] {
		known := make([]string, 0, len(env.Outputs))
		for o := range env.Outputs {
			known = append(known, o)
		}
		sort.Strings(known)
		n.Errorf("unknown output %q (outputs of this pipeline: %s)", name, strings.Join(known, ", "))
	}
	return name
}
