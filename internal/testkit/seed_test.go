package testkit_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/testkit"
)

// recorder is a testing.TB that records what Seed logs and fails with.
type recorder struct {
	testing.TB
	logs, fatals []string
}

func (r *recorder) Helper() {}

func (r *recorder) Logf(format string, args ...any) {
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
}

func TestSeedFromEnvironment(t *testing.T) {
	t.Setenv(testkit.SeedVar, "18446744073709551615")
	r := &recorder{TB: t}
	if got := testkit.Seed(r); got != 1<<64-1 {
		t.Fatalf("Seed = %d, want 2^64-1", got)
	}
	want := "seed=18446744073709551615 (replay with SLUICE_TEST_SEED=18446744073709551615)"
	if len(r.logs) != 1 || r.logs[0] != want || len(r.fatals) != 0 {
		t.Fatalf("logged %q, failed %q; want the log %q", r.logs, r.fatals, want)
	}
}

func TestSeedRandomIsLogged(t *testing.T) {
	t.Setenv(testkit.SeedVar, "")
	r := &recorder{TB: t}
	seed := testkit.Seed(r)
	want := fmt.Sprintf("seed=%d (replay with SLUICE_TEST_SEED=%d)", seed, seed)
	if len(r.logs) != 1 || r.logs[0] != want || len(r.fatals) != 0 {
		t.Fatalf("logged %q, failed %q; want the log %q", r.logs, r.fatals, want)
	}
}

func TestSeedRejectsBadValue(t *testing.T) {
	for _, bad := range []string{"x", "-1", "1.5", "18446744073709551616"} {
		t.Setenv(testkit.SeedVar, bad)
		r := &recorder{TB: t}
		testkit.Seed(r)
		if len(r.fatals) != 1 || !strings.Contains(r.fatals[0], testkit.SeedVar) || !strings.Contains(r.fatals[0], bad) {
			t.Errorf("%s=%q: failed with %q, want one failure naming the variable and the value", testkit.SeedVar, bad, r.fatals)
		}
	}
}
