package testkit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testkit"
)

func TestEventuallyValueReturnsWhatItSaw(t *testing.T) {
	n := 0
	got := testkit.EventuallyValue(t, time.Minute, "n to reach 3", func() (int, bool) {
		n++
		return n, n == 3
	})
	if got != 3 {
		t.Fatalf("EventuallyValue = %d, want 3", got)
	}
}

func TestEventuallyValueNamesWhatAndLastValue(t *testing.T) {
	r := &recorder{TB: t}
	n := 0
	testkit.EventuallyValue(r, 120*time.Millisecond, "user-stats lag to reach 0", func() (string, bool) {
		n++
		return "lag " + strings.Repeat("9", n), false
	})
	if len(r.fatals) != 1 {
		t.Fatalf("failed %d times (%q), want once", len(r.fatals), r.fatals)
	}
	want := "timed out after 120ms waiting for user-stats lag to reach 0: last observed lag " + strings.Repeat("9", n)
	if r.fatals[0] != want {
		t.Fatalf("failed with %q, want %q", r.fatals[0], want)
	}
}

func TestEventuallyNamesWhat(t *testing.T) {
	r := &recorder{TB: t}
	testkit.Eventually(r, 60*time.Millisecond, "the moon", func() bool { return false })
	if len(r.fatals) != 1 || r.fatals[0] != "timed out after 60ms waiting for the moon" {
		t.Fatalf("failed with %q", r.fatals)
	}
}

func TestConsistently(t *testing.T) {
	began := time.Now()
	calls := 0
	testkit.Consistently(t, 150*time.Millisecond, "nothing to move", func() (int, bool) {
		calls++
		return 0, true
	})
	if since := time.Since(began); since < 150*time.Millisecond || calls < 2 {
		t.Fatalf("Consistently returned after %s and %d observations, want 150ms and several", since, calls)
	}

	r := &recorder{TB: t}
	n := 0
	testkit.Consistently(r, time.Minute, "the count to stay at 0", func() (int, bool) {
		n++
		return n - 1, n < 3
	})
	if len(r.fatals) != 1 || !strings.HasPrefix(r.fatals[0], "expected the count to stay at 0 for 1m0s; after ") ||
		!strings.HasSuffix(r.fatals[0], " observed 2") {
		t.Fatalf("failed with %q, want one failure naming the condition and the value 2", r.fatals)
	}
}

func TestAwait(t *testing.T) {
	ch := make(chan int, 1)
	ch <- 7
	if got := testkit.Await(t, time.Minute, "a value", ch); got != 7 {
		t.Fatalf("Await = %d, want 7", got)
	}

	r := &recorder{TB: t}
	if got := testkit.Await(r, 30*time.Millisecond, "sluice run to exit", make(chan int)); got != 0 {
		t.Fatalf("Await timed out with %d, want the zero value", got)
	}
	if len(r.fatals) != 1 || r.fatals[0] != "timed out after 30ms waiting for sluice run to exit" {
		t.Fatalf("failed with %q", r.fatals)
	}
}
