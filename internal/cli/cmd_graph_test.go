package cli

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pipeline"
)

// referenceNodes is every topic, group and table of the reference pipelines,
// from the loaded config and, so that an empty config cannot pass, by name.
func referenceNodes(t *testing.T) []string {
	t.Helper()
	cfg, err := pipeline.Load(referencePipelines, pipeline.WithGetenv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var names []string
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, n := range []string{"user-topic", "user-stats", "big-purchases", "user-topic-dlq", "user-stats-table"} {
		add(n)
	}
	for _, p := range cfg.Pipelines {
		add(p.Input.Topic)
		add(p.DeadLetter)
		add(p.Group)
		for _, o := range p.Outputs {
			add(o.Topic)
		}
		if p.Stateful() {
			add(pipeline.TableTopic(p.Group))
		}
	}
	return names
}

func TestGraphFormats(t *testing.T) {
	for _, c := range []struct {
		format     string
		args       []string
		start, end string
		node       func(name string) string
		deadLetter string
	}{
		{
			format: "mermaid (default)", args: nil,
			start: "flowchart LR\n", end: "\n",
			node:       func(n string) string { return `"` + n + `"` },
			deadLetter: `-.->|"dead letters"| topic_user_topic_dlq`,
		},
		{
			format: "mermaid", args: []string{"--format", "mermaid"},
			start: "flowchart LR\n", end: "\n",
			node:       func(n string) string { return `"` + n + `"` },
			deadLetter: `-.->|"dead letters"| topic_user_topic_dlq`,
		},
		{
			format: "dot", args: []string{"--format", "dot"},
			start: "digraph sluice {\n", end: "}\n",
			node:       func(n string) string { return `label="` + n },
			deadLetter: `-> topic_user_topic_dlq [label="dead letters", style=dashed];`,
		},
	} {
		t.Run(c.format, func(t *testing.T) {
			r := runOffline(t, nil, append([]string{"graph", "-f", referencePipelines}, c.args...)...)
			if r.code != ExitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			out := r.stdout
			if !strings.HasPrefix(out, c.start) || !strings.HasSuffix(out, c.end) {
				t.Errorf("output is not a %s diagram:\n%s", c.format, out)
			}
			for _, n := range referenceNodes(t) {
				if !strings.Contains(out, n) {
					t.Errorf("%s lacks %q", c.format, n)
				}
			}
			for _, n := range []string{"user-topic", "user-stats", "big-purchases", "user-topic-dlq", "user-stats-table"} {
				if !strings.Contains(out, c.node(n)) {
					t.Errorf("%s has no node %q", c.format, n)
				}
			}
			for _, g := range []string{"user-stats (group user-stats): filter → validate → aggregate → emit", "big-purchases (group big-purchases): filter → map → emit"} {
				if !strings.Contains(out, g) {
					t.Errorf("%s lacks the group %q", c.format, g)
				}
			}
			if got := strings.Count(out, c.deadLetter); got != 2 {
				t.Errorf("%s has %d dashed dead-letter edges to user-topic-dlq, want 2 (one per pipeline):\n%s", c.format, got, out)
			}
		})
	}
}

func TestGraphUsage(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"png", []string{"graph", "-f", referencePipelines, "--format", "png"}, `--format: "png" is not mermaid or dot`},
		{"unknown flag", []string{"graph", "-f", referencePipelines, "--output", "x.svg"}, "unknown flag: --output"},
		{"broken file", []string{"graph", "-f", "../../pipeline/testdata/broken/duplicate_groups.yaml"},
			`../../pipeline/testdata/broken/duplicate_groups.yaml:17:12: pipelines "user-stats" and "big-purchases" use the same group "shared"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runOffline(t, nil, c.args...)
			if r.code != ExitUsage || !strings.Contains(r.stderr, c.want) {
				t.Errorf("exit %d, want %d with %q in stderr:\n%s", r.code, ExitUsage, c.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}
