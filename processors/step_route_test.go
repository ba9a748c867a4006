package processors_test

import (
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/processors"
)

const routeSrc = `
- when: amount >= 1000
  to: huge
- when: amount >= 100
  to: big
- to: normal
`

func TestRouteFirstMatchAndDefault(t *testing.T) {
	r := build(t, processors.NewRoute, "route", routeSrc, statelessEnv(t, "huge", "big", "normal"))
	for _, c := range []struct {
		amount float64
		want   string
	}{
		{5000, "huge"}, // matches all three cases: only the first counts
		{1000, "huge"},
		{150, "big"},
		{5, "normal"}, // the case without when
	} {
		v := event("u1", "purchase", c.amount, nil)
		m := processors.NewMessage("u1", v, processors.Meta{})
		if got := process(t, r, m); got != processors.Continue {
			t.Errorf("amount %v: got %s", c.amount, resultName(got))
		}
		want := []processors.Emit{{Output: c.want, Key: "u1", Value: v}}
		if !reflect.DeepEqual(m.Emits(), want) {
			t.Errorf("amount %v: emits %+v, want %+v", c.amount, m.Emits(), want)
		}
	}
}

func TestRouteNoMatchDrops(t *testing.T) {
	r := build(t, processors.NewRoute, "route", "- when: amount >= 1000\n  to: huge\n", statelessEnv(t, "huge"))
	m := processors.NewMessage("u1", event("u1", "purchase", 10, nil), processors.Meta{})
	if got := process(t, r, m); got != processors.Drop {
		t.Errorf("got %s, want Drop", resultName(got))
	}
	if len(m.Emits()) != 0 {
		t.Errorf("emits %+v", m.Emits())
	}
}

func TestRouteConfigErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"- when: amount >= 1\n  to: hug\n", `step.yaml:2:7: unknown output "hug" (outputs of this pipeline: huge, normal)`},
		{"- when: amount\n  to: huge\n", `step.yaml:1:9: expression "amount": a condition must be true or false, but this gives a number`},
		{"- when: amount > 1\n", `step.yaml:1:3: missing required field "to"`},
		{"- to: huge\n  if: amount > 1\n", `step.yaml:2:3: unknown field "if"; known fields: to, when`},
	} {
		if got := configErrors(t, processors.NewRoute, "route", c.src, statelessEnv(t, "huge", "normal")); got != c.want {
			t.Errorf("route %q:\ngot  %s\nwant %s", c.src, got, c.want)
		}
	}
}
