package processors_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/sluicehq/sluice/processors"
)

func TestTransient(t *testing.T) {
	if processors.Transient(nil) != nil {
		t.Error("Transient(nil) is not nil")
	}
	base := fmt.Errorf("reading table: %w", io.ErrUnexpectedEOF)
	err := processors.Transient(base)
	if !errors.Is(err, processors.ErrTransient) {
		t.Error("Transient(err) is not ErrTransient")
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.Is(err, base) {
		t.Error("Transient hides the wrapped error")
	}
	if err.Error() != "reading table: unexpected EOF" {
		t.Errorf("message %q", err)
	}
	if wrapped := fmt.Errorf("lookup: %w", err); !errors.Is(wrapped, processors.ErrTransient) {
		t.Error("wrapping a transient error loses it")
	}
	if errors.Is(base, processors.ErrTransient) || errors.Is(errors.New("x"), processors.ErrTransient) {
		t.Error("a plain error is transient")
	}
	if errors.Is(err, processors.ErrInvalid) {
		t.Error("a transient error is invalid")
	}
}

// A custom step's transient error reaches the caller as transient, so the
// runtime retries it instead of dead-lettering it.
func TestStepFuncTransient(t *testing.T) {
	calls := 0
	step := processors.StepFunc(func(context.Context, *processors.Message) (processors.Result, error) {
		calls++
		return processors.Drop, processors.Transient(errors.New("geoip service unavailable"))
	})
	res, err := step.Process(context.Background(), processors.NewMessage("k", nil, processors.Meta{}))
	if calls != 1 || res != processors.Drop || !errors.Is(err, processors.ErrTransient) {
		t.Errorf("calls %d, result %s, error %v", calls, resultName(res), err)
	}
}
