package testkit

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// SeedVar names the environment variable that replays a random test with
// the seed a previous run logged.
const SeedVar = "SLUICE_TEST_SEED"

// Seed returns the seed of a test's random data: $SLUICE_TEST_SEED when set,
// otherwise a random one. It logs the seed, so that a failing run can be
// replayed exactly.
func Seed(t testing.TB) uint64 {
	t.Helper()
	seed := rand.Uint64()
	if s := os.Getenv(SeedVar); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("$%s=%q is not a seed (a decimal number from 0 to 2^64-1): %v", SeedVar, s, err)
			return 0
		}
		seed = v
	}
	t.Logf("seed=%d (replay with %s=%d)", seed, SeedVar, seed)
	return seed
}
