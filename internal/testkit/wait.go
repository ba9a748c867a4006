package testkit

import (
	"testing"
	"time"
)

// pollInterval is how often the waits below look at their condition.
const pollInterval = 50 * time.Millisecond

// Eventually polls cond until it holds, and fails the test naming what it
// waited for when timeout passes first. Prefer EventuallyValue when the
// state being waited on is cheap to report.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
			return
		}
		time.Sleep(pollInterval)
	}
}

// EventuallyValue polls observe until it reports done, and returns the value
// it observed then. When timeout passes first it fails the test naming what
// it waited for and the last value observed ("waiting for user-stats to
// consume 10000 messages: last observed {Consumed:1234 ...}").
func EventuallyValue[T any](t testing.TB, timeout time.Duration, what string, observe func() (v T, done bool)) T {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v, done := observe()
		if done {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s: last observed %+v", timeout, what, v)
			return v
		}
		time.Sleep(pollInterval)
	}
}

// Consistently checks observe for the whole of d, and fails the test at the
// first observation that does not hold, naming what should have held and the
// value observed. It is the bounded form of a negative check: "nothing moves
// while the registry is down".
func Consistently[T any](t testing.TB, d time.Duration, what string, observe func() (v T, holds bool)) {
	t.Helper()
	began := time.Now()
	for {
		v, holds := observe()
		if !holds {
			t.Fatalf("expected %s for %s; after %s observed %+v", what, d, time.Since(began).Round(time.Millisecond), v)
			return
		}
		if time.Since(began) >= d {
			return
		}
		time.Sleep(pollInterval)
	}
}

// Await receives from ch, and fails the test naming what it waited for when
// nothing arrives within timeout (then it returns the zero value).
func Await[T any](t testing.TB, timeout time.Duration, what string, ch <-chan T) T {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("timed out after %s waiting for %s", timeout, what)
		var zero T
		return zero
	}
}
