package processors_test

import (
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
