package bounded_test

import (
	"testing"

	"github.com/sluicehq/sluice/internal/bounded"
)

func TestText(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijkl", 4, "abcd…"},
		{"ééé", 3, "é…"}, // é is two bytes: never cut inside a rune
		{"ééé", 4, "éé…"},
		{"ééé", 0, "…"},
	} {
		if got := bounded.Text(c.in, c.n); got != c.want {
			t.Errorf("Text(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
