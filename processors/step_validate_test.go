package processors_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sluicehq/sluice/processors"
)

const validateSrc = `
- check: amount >= 0
  message: amount must not be negative
- check: event_type != ""
`

func TestValidatePasses(t *testing.T) {
	v := build(t, processors.NewValidate, "validate", validateSrc, statelessEnv(t))
	m := processors.NewMessage("u1", event("u1", "purchase", 0, nil), processors.Meta{})
	if got := process(t, v, m); got != processors.Continue {
		t.Errorf("got %s, want Continue", resultName(got))
	}
}

func TestValidateFails(t *testing.T) {
	v := build(t, processors.NewValidate, "validate", validateSrc, statelessEnv(t))
	for _, c := range []struct {
		name  string
		value map[string]any
		want  string
	}{
		{"first failing check gives its message", event("u1", "", -1, nil), "invalid: amount must not be negative"},
		{"a check without message names its expression", event("u1", "", 5, nil), `invalid: check failed: event_type != ""`},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := v.Process(context.Background(), processors.NewMessage("u1", c.value, processors.Meta{}))
			if res != processors.Drop {
				t.Errorf("result %s, want Drop", resultName(res))
			}
			if !errors.Is(err, processors.ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			if errors.Is(err, processors.ErrTransient) {
				t.Errorf("a failed check is transient")
			}
			if err.Error() != c.want {
				t.Errorf("error %q, want %q", err, c.want)
			}
		})
	}
}

func TestValidateConfigErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`[]`, `step.yaml:1:1: validate needs at least one check`},
		{"- message: no check\n", `step.yaml:1:3: missing required field "check"`},
		{"- check: amount\n", `step.yaml:1:10: expression "amount": a condition must be true or false, but this gives a number`},
		{"- check: amount >= 0\n  mesage: typo\n", `step.yaml:2:3: unknown field "mesage"; did you mean "message"? known fields: check, message`},
		{`amount >= 0`, `step.yaml:1:1: expected a list, got string "amount >= 0"`},
	} {
		if got := configErrors(t, processors.NewValidate, "validate", c.src, statelessEnv(t)); got != c.want {
			t.Errorf("validate %q:\ngot  %s\nwant %s", c.src, got, c.want)
		}
	}
}
