package pipetest

import (
	"strings"

	"github.com/sluicehq/sluice/processors/config"
)

func (l *fileLoader) expect(c *Case, n *config.Node) {
	m := n.Map()
	if m == nil {
		return
	}
	defer m.Done()
	p := c.Pipeline
	if v := m.Get("outputs"); v != nil {
		if om := v.Map(); om != nil {
			for _, e := range om.Entries() {
				o, ok := p.Outputs[e.Key]
				if !ok {
					e.KeyNode.Errorf("pipeline %s has no output %q (outputs: %s)", p.Name, e.Key, strings.Join(p.OutputList, ", "))
					continue
				}
				oe := &OutputExpect{Pos: e.KeyNode.Pos(), Name: e.Key, Output: o}
				for _, r := range listOrEmpty(e.Value) {
					if rec := record(r); rec != nil {
						oe.Records = append(oe.Records, rec)
					}
				}
				c.Outputs = append(c.Outputs, oe)
			}
		}
	}
	if v := m.Get("dead_letters"); v != nil {
		dl := &DeadLettersExpect{Pos: v.Pos()}
		for _, d := range listOrEmpty(v) {
			if e := deadLetter(d); e != nil {
				dl.Letters = append(dl.Letters, e)
			}
		}
		c.DeadLetters = dl
	}
	if v := m.Get("state"); v != nil {
		if !p.Stateful() {
			v.Errorf("pipeline %s keeps no state", p.Name)
		} else if sm := v.Map(); sm != nil {
			for _, e := range sm.Entries() {
				c.State = append(c.State, &StateExpect{Pos: e.KeyNode.Pos(), Key: e.Key, Value: jsonValue(e.Value)})
			}
		}
	}
}

// listOrEmpty reads a list; `[]` and nothing are an empty list.
func listOrEmpty(n *config.Node) []*config.Node {
	if n.IsNull() {
		return nil
	}
	return n.List()
}

func record(n *config.Node) *RecordExpect {
	m := n.Map()
	if m == nil {
		return nil
	}
	defer m.Done()
	r := &RecordExpect{Pos: n.Pos(), Key: m.StringOr("key", "")}
	if v := m.Need("value"); v != nil {
		r.Value = jsonValue(v)
	}
	return r
}

func deadLetter(n *config.Node) *DeadLetterExpect {
	m := n.Map()
	if m == nil {
		return nil
	}
	defer m.Done()
	d := &DeadLetterExpect{Pos: n.Pos()}
	if v := m.Get("key"); v != nil {
		k := v.String()
		d.Key = &k
	}
	d.Stage = m.StringOr("stage", "")
	d.Kind = m.StringOr("kind", "")
	d.Message = m.StringOr("message", "")
	if v := m.Get("headers"); v != nil {
		if hm := v.Map(); hm != nil {
			d.Headers = map[string]string{}
			for _, e := range hm.Entries() {
				d.Headers[e.Key] = e.Value.String()
			}
		}
	}
	if d.Stage == "" && d.Kind == "" && d.Message == "" && d.Key == nil && d.Headers == nil {
		n.Errorf("a dead letter expectation needs at least one of key, stage, kind, message, headers")
	}
	return d
}

// jsonValue turns a YAML value into the JSON form values are compared in.
func jsonValue(n *config.Node) any {
	switch {
	case n.IsMap():
		out := map[string]any{}
		for _, e := range n.Map().Entries() {
			out[e.Key] = jsonValue(e.Value)
		}
		return out
	case n.IsList():
		items := n.List()
		out := make([]any, len(items))
		for i, item := range items {
			out[i] = jsonValue(item)
		}
		return out
	}
	return n.Value()
}
