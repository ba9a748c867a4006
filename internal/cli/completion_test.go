package cli

import (
	"slices"
	"strings"
	"testing"
)

// completions asks the CLI what the shell would offer for args, the last
// being the word being typed; it returns the offered words.
func completions(t *testing.T, args ...string) []string {
	t.Helper()
	res := runCLICtx(t.Context(), nil, strings.NewReader(""), append([]string{"__complete"}, args...)...)
	if res.code != ExitOK {
		t.Fatalf("sluice __complete %s: exit %d, stderr %s", strings.Join(args, " "), res.code, res.stderr)
	}
	var words []string
	for line := range strings.Lines(res.stdout) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, ":") { // ":<directive>" ends the list
			continue
		}
		word, _, _ := strings.Cut(line, "\t")
		words = append(words, word)
	}
	return words
}

func TestCompletion(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"run", "-f", "../../pipelines.yaml", "--pipeline", ""},
			[]string{"user-stats", "big-purchases"}},
		{[]string{"consume", "--codec", ""}, []string{"auto", "avro", "json", "string", "bytes"}},
		{[]string{"consume", "--offset", ""}, []string{"beginning", "end"}},
		{[]string{"produce", "--codec", ""}, []string{"json", "string"}},
		{[]string{"produce", "--partitioner", ""}, []string{"murmur2", "fnv1a", "crc32"}},
		{[]string{"graph", "--format", ""}, []string{"mermaid", "dot"}},
		{[]string{"dlq", "inspect", "--format", ""}, []string{"auto", "json", "table"}},
		{[]string{"run", "--log-level", ""}, []string{"debug", "info", "warn", "error"}},
		{[]string{"completion", ""}, []string{"bash", "fish", "powershell", "zsh"}},
	} {
		got := completions(t, c.args...)
		for _, w := range c.want {
			if !slices.Contains(got, w) {
				t.Errorf("sluice %s<TAB> offers %q, want it to include %q", strings.Join(c.args, " "), got, w)
			}
		}
	}
	// An unreadable pipelines file offers nothing rather than file names.
	if got := completions(t, "run", "-f", "no-such.yaml", "--pipeline", ""); len(got) != 0 {
		t.Errorf("pipelines of a missing file: %q", got)
	}
	// The completion script itself.
	res := runCLICtx(t.Context(), nil, strings.NewReader(""), "completion", "bash")
	if res.code != ExitOK || !strings.Contains(res.stdout, "__start_sluice") {
		t.Errorf("completion bash: exit %d, %.200q", res.code, res.stdout)
	}
}
