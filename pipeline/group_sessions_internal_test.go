package pipeline

import (
	"errors"
	"fmt"
	"testing"
)

func TestOnlyAborts(t *testing.T) {
	// The two errors goka reports for an aborted callback, as it words them.
	failed := fmt.Errorf("error processing message (partition=5): %w", fmt.Errorf("synchronous error in callback: %w", errStopping))
	panicked := fmt.Errorf("error processing message (partition=5): %w", fmt.Errorf("panic in callback: %v\n%v", errStopping, "(*handler).abort"))
	failure := fmt.Errorf("error processing message (partition=2): %w", errors.New("asynchronous error from callback: kafka: not leader"))
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"one aborted callback", errors.Join(failed, panicked), true},
		{"aborts in nested lists", errors.Join(errors.Join(failed, panicked), errors.Join(failed, panicked)), true},
		{"aborts in a wrapped list", fmt.Errorf("cleanup: %w", errors.Join(failed, panicked)), true},
		{"an abort and a failure", errors.Join(failed, panicked, failure), false},
		{"a failure in a wrapped list", fmt.Errorf("cleanup: %w", errors.Join(failed, failure)), false},
		{"a failure", failure, false},
	} {
		if got := onlyAborts(c.err); got != c.want {
			t.Errorf("%s: onlyAborts(%q) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}
