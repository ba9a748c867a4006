package pipeline

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Diagram formats.
const (
	FormatMermaid = "mermaid"
	FormatDot     = "dot"
)

// edge is one arrow of the topology diagram.
type edge struct {
	from, to, label string
	dashed          bool
}

// topology lists the nodes and edges of every pipeline: input topics,
// groups (with their steps), group tables, outputs and dead-letter topics.
type topology struct {
	topics, tables []string
	groups         map[string]string // node id -> label
	edges          []edge
}

func (c *Config) topology() topology {
	t := topology{groups: map[string]string{}}
	topics, tables := map[string]bool{}, map[string]bool{}
	addTopic := func(name string) {
		if !topics[name] {
			topics[name] = true
			t.topics = append(t.topics, name)
		}
	}
	for _, p := range c.Pipelines {
		steps := make([]string, len(p.Steps))
		for i, s := range p.Steps {
			steps[i] = s.Type
		}
		g := "group:" + p.Group
		t.groups[g] = fmt.Sprintf("%s (group %s): %s", p.Name, p.Group, strings.Join(steps, " → "))
		addTopic(p.Input.Topic)
		t.edges = append(t.edges, edge{from: "topic:" + p.Input.Topic, to: g, label: p.Input.Codec})
		for _, name := range p.OutputList {
			o := p.Outputs[name]
			addTopic(o.Topic)
			t.edges = append(t.edges, edge{from: g, to: "topic:" + o.Topic, label: name + " (" + o.Codec + ")"})
		}
		addTopic(p.DeadLetter)
		t.edges = append(t.edges, edge{from: g, to: "topic:" + p.DeadLetter, label: "dead letters", dashed: true})
		if p.Stateful() {
			table := TableTopic(p.Group)
			if !tables[table] {
				tables[table] = true
				t.tables = append(t.tables, table)
			}
			t.edges = append(t.edges, edge{from: g, to: "table:" + table, label: "state"})
		}
		for _, s := range p.Steps {
			if q := c.Pipeline(s.Table); q != nil {
				table := TableTopic(q.Group)
				if !tables[table] {
					tables[table] = true
					t.tables = append(t.tables, table)
				}
				t.edges = append(t.edges, edge{from: "table:" + table, to: g, label: "lookup", dashed: true})
			}
		}
	}
	return t
}

var nonID = regexp.MustCompile(`[^a-zA-Z0-9_]`)

func nodeID(s string) string { return nonID.ReplaceAllString(s, "_") }

// Diagram renders the pipelines' topology as mermaid or dot.
func (c *Config) Diagram(format string) (string, error) {
	t := c.topology()
	groups := make([]string, 0, len(t.groups))
	for g := range t.groups {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	var b strings.Builder
	switch format {
	case FormatMermaid, "":
		b.WriteString("flowchart LR\n")
		for _, name := range t.topics {
			fmt.Fprintf(&b, "  %s([%q])\n", nodeID("topic:"+name), name)
		}
		for _, name := range t.tables {
			fmt.Fprintf(&b, "  %s[(%q)]\n", nodeID("table:"+name), name)
		}
		for _, g := range groups {
			fmt.Fprintf(&b, "  %s[%q]\n", nodeID(g), t.groups[g])
		}
		for _, e := range t.edges {
			arrow := "-->"
			if e.dashed {
				arrow = "-.->"
			}
			fmt.Fprintf(&b, "  %s %s|%q| %s\n", nodeID(e.from), arrow, e.label, nodeID(e.to))
		}
	case FormatDot:
		b.WriteString("digraph sluice {\n  rankdir=LR;\n")
		for _, name := range t.topics {
			fmt.Fprintf(&b, "  %s [label=%q, shape=cds];\n", nodeID("topic:"+name), name)
		}
		for _, name := range t.tables {
			fmt.Fprintf(&b, "  %s [label=%q, shape=cylinder];\n", nodeID("table:"+name), name)
		}
		for _, g := range groups {
			fmt.Fprintf(&b, "  %s [label=%q, shape=box];\n", nodeID(g), t.groups[g])
		}
		for _, e := range t.edges {
			style := ""
			if e.dashed {
				style = ", style=dashed"
			}
			fmt.Fprintf(&b, "  %s -> %s [label=%q%s];\n", nodeID(e.from), nodeID(e.to), e.label, style)
		}
		b.WriteString("}\n")
	default:
		return "", fmt.Errorf("unknown format %q (mermaid or dot)", format)
	}
	return b.String(), nil
}
