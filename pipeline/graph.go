package pipeline

import (
	"fmt"
	"sort"
	"strconv"
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

// diagramStyle is how one format writes nodes and edges.
type diagramStyle struct {
	header, footer      string
	topic, table, group string // formats taking the node id and its label
	edge                func(from, to, label string, dashed bool) string
}

// styleOf returns the style of a format.
func styleOf(format string) (diagramStyle, bool) {
	switch format {
	case FormatMermaid, "":
		return mermaidStyle(), true
	case FormatDot:
		return dotStyle(), true
	}
	return diagramStyle{}, false
}

func mermaidStyle() diagramStyle {
	return diagramStyle{
		header: "flowchart LR\n",
		topic:  "  %s([%q])\n", table: "  %s[(%q)]\n", group: "  %s[%q]\n",
		edge: func(from, to, label string, dashed bool) string {
			arrow := "-->"
			if dashed {
				arrow = "-.->"
			}
			return fmt.Sprintf("  %s %s|%q| %s\n", from, arrow, label, to)
		},
	}
}

func dotStyle() diagramStyle {
	return diagramStyle{
		header: "digraph sluice {\n  rankdir=LR;\n", footer: "}\n",
		topic: "  %s [label=%q, shape=cds];\n", table: "  %s [label=%q, shape=cylinder];\n", group: "  %s [label=%q, shape=box];\n",
		edge: func(from, to, label string, dashed bool) string {
			style := ""
			if dashed {
				style = ", style=dashed"
			}
			return fmt.Sprintf("  %s -> %s [label=%q%s];\n", from, to, label, style)
		},
	}
}

// Diagram renders the pipelines' topology as mermaid or dot.
func (c *Config) Diagram(format string) (string, error) {
	st, ok := styleOf(format)
	if !ok {
		return "", fmt.Errorf("unknown format %q (mermaid or dot)", format)
	}
	t := c.topology()
	groups := make([]string, 0, len(t.groups))
	for g := range t.groups {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	// Node ids are the names with other characters as '_'; names that
	// differ only there (user.topic, user_topic) get a numbered id so they
	// stay distinct nodes.
	ids, taken := map[string]string{}, map[string]bool{}
	nodeID := func(key string) string {
		if id, ok := ids[key]; ok {
			return id
		}
		base := strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return r
			}
			return '_'
		}, key)
		id := base
		for n := 2; taken[id]; n++ {
			id = base + "_" + strconv.Itoa(n)
		}
		ids[key], taken[id] = id, true
		return id
	}
	var b strings.Builder
	b.WriteString(st.header)
	for _, name := range t.topics {
		fmt.Fprintf(&b, st.topic, nodeID("topic:"+name), name)
	}
	for _, name := range t.tables {
		fmt.Fprintf(&b, st.table, nodeID("table:"+name), name)
	}
	for _, g := range groups {
		fmt.Fprintf(&b, st.group, nodeID(g), t.groups[g])
	}
	for _, e := range t.edges {
		b.WriteString(st.edge(nodeID(e.from), nodeID(e.to), e.label, e.dashed))
	}
	b.WriteString(st.footer)
	return b.String(), nil
}
