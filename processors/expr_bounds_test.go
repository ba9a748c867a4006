package processors_test

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/processors"
)

// An expression past MaxExprBytes or MaxExprDepth is refused at the position
// where it passes the bound, before expr parses it; brackets in strings and
// comments do not count.
func TestExprBounds(t *testing.T) {
	nested := func(n int) string { return strings.Repeat("(", n) + "amount > 0" + strings.Repeat(")", n) }
	for _, c := range []struct{ name, src, want string }{
		{"500,000 nested parentheses", nested(500_000), "step.yaml:1:65537: the expression is longer than 64 KiB"},
		{"101 nested parentheses", nested(101), "step.yaml:1:101: brackets nest more than 100 levels deep here"},
		{"101 nested lists", "'" + strings.Repeat("[", 101) + strings.Repeat("]", 101) + " != nil'", "step.yaml:1:102: brackets nest more than 100 levels deep here"},
		{"100 nested parentheses", nested(100), ""},
		{"brackets in strings and comments", `'event_type != "` + strings.Repeat("(", 200) + `" /* ` + strings.Repeat("[", 200) + ` */ && amount > 0 // ` + strings.Repeat("{", 200) + "'", ""},
		{"64 KiB", "'" + sized(64<<10) + "'", ""},
		{"64 KiB and a byte", "'" + sized(64<<10+1) + "'", "step.yaml:1:65538: the expression is longer than 64 KiB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.want == "" {
				build(t, processors.NewFilter, "filter", c.src, statelessEnv(t))
				return
			}
			if got := configErrors(t, processors.NewFilter, "filter", c.src, statelessEnv(t)); got != c.want {
				t.Errorf("got  %.300s\nwant %s", got, c.want)
			}
		})
	}
}

// sized returns a filter of n bytes.
func sized(n int) string {
	const head, tail = `event_type != "`, `"`
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

// An error quotes at most 200 bytes of its expression.
func TestExprErrorsQuoteLittle(t *testing.T) {
	src := "amount > " + strings.Repeat("1 + ", 1000) + `"x"`
	got := configErrors(t, processors.NewFilter, "filter", src, statelessEnv(t))
	if len(got) > 400 || !strings.Contains(got, `expression "amount > 1 + 1 + `) || !strings.Contains(got, `…: `) {
		t.Errorf("error of %d bytes: %.500s", len(got), got)
	}
}
