package dlq

import (
	"testing"
	"time"
)

// WithRate(n) allows n records a second, evenly spaced, with no burst after
// a pause; WithRate(0) allows any number. The times are given, not read
// from the clock.
func TestNewLimiter(t *testing.T) {
	at := time.Unix(1000, 0)
	lim := newLimiter(10)
	for _, step := range []struct {
		after time.Duration
		allow bool
	}{
		{0, true},
		{0, false},
		{50 * time.Millisecond, false},
		{150 * time.Millisecond, true},
		{160 * time.Millisecond, false},
		{10 * time.Second, true}, // after a pause: one, not a burst
		{10 * time.Second, false},
	} {
		if got := lim.AllowN(at.Add(step.after), 1); got != step.allow {
			t.Fatalf("at +%s: allowed %v, want %v", step.after, got, step.allow)
		}
	}
	unlimited := newLimiter(0)
	for i := range 1000 {
		if !unlimited.AllowN(at, 1) {
			t.Fatalf("rate 0 refused record %d", i)
		}
	}
}
