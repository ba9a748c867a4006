package cli

import (
	"strings"
	"testing"
)

// --topic, --max and --timeout are checked alike, with the same messages, by
// every command that has them, before anything connects.
func TestTopicFlagsSameUsageEverywhere(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"produce"}, "sluice: --topic is required\n"},
		{[]string{"consume"}, "sluice: --topic is required\n"},
		{[]string{"dlq", "inspect"}, "sluice: --topic is required\n"},
		{[]string{"dlq", "replay"}, "sluice: --topic is required\n"},
		{[]string{"consume", "--topic", "t", "--max", "-1"}, "sluice: --max must be >= 0, got -1\n"},
		{[]string{"dlq", "inspect", "--topic", "t", "--max", "-1"}, "sluice: --max must be >= 0, got -1\n"},
		{[]string{"consume", "--topic", "t", "--timeout", "-1s"}, "sluice: --timeout must be >= 0, got -1s\n"},
		{[]string{"dlq", "inspect", "--topic", "t", "--timeout", "-1s"}, "sluice: --timeout must be >= 0, got -1s\n"},
		{[]string{"dlq", "replay", "--topic", "t", "--rate", "-1"}, "sluice: --rate must be >= 0, got -1\n"},
	} {
		res := runCLICtx(t.Context(), nil, strings.NewReader(""), c.args...)
		if res.code != ExitUsage || res.stderr != c.want || res.stdout != "" {
			t.Errorf("sluice %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(c.args, " "), res.code, res.stderr, c.want)
		}
	}
}
