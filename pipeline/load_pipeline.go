package pipeline

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/internal/conf"
	"github.com/sluicehq/sluice/processors"
)

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

type pipelineNodes struct {
	p     *Pipeline
	steps *conf.Node
	m     *conf.Map
}

func (l *loader) pipelines(n *conf.Node, retry Retry) []*Pipeline {
	items := n.List()
	if items == nil {
		return nil
	}
	if len(items) == 0 {
		n.Errorf("pipelines is empty: declare at least one pipeline")
	}
	// First pass: everything but the steps, so that lookup steps can see
	// every table whichever order pipelines are declared in.
	var parsed []pipelineNodes
	for _, item := range items {
		m := item.Map()
		if m == nil {
			continue
		}
		p := l.pipelineHead(item, m, retry)
		parsed = append(parsed, pipelineNodes{p: p, steps: m.Need("steps"), m: m})
	}
	tables := map[string]*processors.Type{}
	for _, pn := range parsed {
		if pn.p.State != nil && pn.p.State.Schema != nil {
			tables[pn.p.Name] = processors.TypeOf(pn.p.State.Schema)
		}
	}
	out := make([]*Pipeline, 0, len(parsed))
	for _, pn := range parsed {
		if pn.steps != nil {
			pn.p.Steps = l.steps(pn.p, pn.steps, tables)
		}
		pn.m.Done()
		out = append(out, pn.p)
	}
	return out
}

// pipelineSites are the nodes of a pipeline that problems between pipelines
// are reported at; a nil node falls back to the pipeline's position.
type pipelineSites struct {
	name, group, inputTopic, deadLetter *conf.Node
	outputTopics                        map[string]*conf.Node
}

func (l *loader) pipelineHead(n *conf.Node, m *conf.Map, retry Retry) *Pipeline {
	p := &Pipeline{Pos: n.Pos(), Outputs: map[string]*Output{}}
	at := &pipelineSites{outputTopics: map[string]*conf.Node{}}
	l.sites[p] = at
	if v := m.Need("name"); v != nil {
		at.name, at.group = v, v
		p.Name = v.String()
		if p.Name != "" && !namePattern.MatchString(p.Name) {
			v.Errorf("name %q may only contain letters, digits, '.', '_' and '-'", p.Name)
		}
	}
	p.Group = p.Name
	if v := m.Get("group"); v != nil {
		at.group = v
		p.Group = v.String()
		if !namePattern.MatchString(p.Group) {
			v.Errorf("group %q may only contain letters, digits, '.', '_' and '-'", p.Group)
		}
	}
	if v := m.Need("input"); v != nil {
		p.Input, at.inputTopic = l.input(v)
	}
	if v := m.Need("dead_letter"); v != nil {
		at.deadLetter = v
		p.DeadLetter = l.topicName(v)
	}
	if v := m.Get("state"); v != nil {
		if sm := v.Map(); sm != nil {
			p.State = &State{}
			if s := sm.Need("schema"); s != nil {
				p.State.SchemaFile, p.State.Schema = l.schemaAt(s)
			}
			sm.Done()
		}
	}
	p.Retry = l.retry(m.Get("retry"), retry)
	if v := m.Get("outputs"); v != nil {
		if om := v.Map(); om != nil {
			for _, e := range om.Entries() {
				o, topic := l.output(e.Key, e.Value)
				at.outputTopics[e.Key] = topic
				p.Outputs[e.Key] = o
				p.OutputList = append(p.OutputList, e.Key)
			}
		}
	}
	return p
}

func (l *loader) topicName(n *conf.Node) string {
	t := n.String()
	if t != "" && !namePattern.MatchString(t) {
		n.Errorf("topic %q may only contain letters, digits, '.', '_' and '-'", t)
	}
	if len(t) > 249 {
		n.Errorf("topic name is longer than 249 characters")
	}
	return t
}

func (l *loader) input(n *conf.Node) (in Input, topic *conf.Node) {
	in = Input{Codec: CodecAvro}
	m := n.Map()
	if m == nil {
		return in, nil
	}
	if topic = m.Need("topic"); topic != nil {
		in.Topic = l.topicName(topic)
	}
	in.Codec = l.codec(m.Get("codec"), in.Codec)
	if v := m.Get("schema"); v != nil {
		in.SchemaFile, in.Schema = l.schemaAt(v)
	}
	if in.Codec == CodecAvro && in.SchemaFile == "" {
		m.Node().Errorf("an avro input needs a reader schema (schema: FILE)")
	}
	m.Done()
	return in, topic
}

func (l *loader) output(name string, n *conf.Node) (o *Output, topic *conf.Node) {
	o = &Output{Name: name, Codec: CodecAvro}
	m := n.Map()
	if m == nil {
		return o, nil
	}
	if topic = m.Need("topic"); topic != nil {
		o.Topic = l.topicName(topic)
	}
	o.Codec = l.codec(m.Get("codec"), o.Codec)
	if v := m.Get("schema"); v != nil {
		o.SchemaFile, o.Schema = l.schemaAt(v)
	}
	if o.Codec == CodecAvro && o.SchemaFile == "" {
		m.Node().Errorf("an avro output needs a schema (schema: FILE)")
	}
	m.Done()
	return o, topic
}

func (l *loader) codec(n *conf.Node, def string) string {
	if n == nil {
		return def
	}
	c := n.String()
	switch c {
	case CodecAvro, CodecJSON, CodecString, CodecBytes:
		return c
	}
	n.Errorf("unknown codec %q (avro, json, string or bytes)", c)
	return "" // not def: an unknown codec must not also be told it lacks an avro schema
}

func (l *loader) steps(p *Pipeline, n *conf.Node, tables map[string]*processors.Type) []*Step {
	env := &processors.Env{
		Value:   inputType(p.Input),
		Vars:    map[string]*processors.Type{},
		Outputs: map[string]bool{},
		Tables:  tables,
	}
	for name := range p.Outputs {
		env.Outputs[name] = true
	}
	if p.State != nil && p.State.Schema != nil {
		env.State = processors.TypeOf(p.State.Schema)
	}
	var steps []*Step
	for _, item := range n.List() {
		m := item.Map()
		if m == nil {
			continue
		}
		s := &Step{Pos: item.Pos(), Retry: l.retry(m.Get("retry"), p.Retry)}
		var typ string
		var cfgNode *conf.Node
		for _, e := range m.Entries() {
			if e.Key == "retry" {
				continue
			}
			if typ != "" {
				e.KeyNode.Errorf("a step has one type key, found %q and %q", typ, e.Key)
				continue
			}
			typ, cfgNode = e.Key, e.Value
		}
		if typ == "" {
			item.Errorf("a step needs a type key (one of: %s)", strings.Join(l.stepTypes.Names(), ", "))
			continue
		}
		factory, ok := l.stepTypes.Lookup(typ)
		if !ok {
			names := l.stepTypes.Names()
			hint := ""
			if near := conf.Suggest(typ, names); near != "" {
				hint = fmt.Sprintf(" did you mean %q?", near)
			}
			item.Errorf("unknown step type %q;%s known step types: %s", typ, hint, strings.Join(names, ", "))
			continue
		}
		spec := &processors.Spec{Type: typ, Config: cfgNode, Env: env, SchemaFile: l.schemaFile}
		impl, err := factory(spec)
		if err != nil {
			cfgNode.Errorf("%s: %v", typ, err)
			continue
		}
		// The table as the step read it, ${VAR} expanded (a custom step may
		// read a table too by having a Table method).
		if t, ok := impl.(interface{ Table() string }); ok {
			if s.Table = t.Table(); s.Table != "" && s.Table == p.Name {
				cfgNode.Errorf("%s: pipeline %q cannot look up its own table; its steps read it as state", typ, p.Name)
			}
		}
		s.Type, s.Impl = typ, impl
		steps = append(steps, s)
	}
	return steps
}

// inputType is what the first step sees.
func inputType(in Input) *processors.Type {
	switch in.Codec {
	case CodecAvro:
		if in.Schema != nil {
			return processors.TypeOf(in.Schema)
		}
	case CodecJSON:
		return &processors.Type{Fields: []processors.Field{}, Open: true}
	}
	return nil
}

// at is where a problem about node n of pipeline p is reported.
func (l *loader) at(p *Pipeline, n func(*pipelineSites) *conf.Node) conf.Pos {
	if s := l.sites[p]; s != nil {
		if node := n(s); node != nil {
			return node.Pos()
		}
	}
	return p.Pos
}

func siteName(s *pipelineSites) *conf.Node       { return s.name }
func siteGroup(s *pipelineSites) *conf.Node      { return s.group }
func siteDeadLetter(s *pipelineSites) *conf.Node { return s.deadLetter }
func siteInput(s *pipelineSites) *conf.Node      { return s.inputTopic }

// crossCheck finds problems between pipelines: duplicate names and groups,
// topic conflicts, lookups of unknown tables.
func (l *loader) crossCheck(cfg *Config) {
	names := map[string]*Pipeline{}
	groups := map[string]*Pipeline{}
	for _, p := range cfg.Pipelines {
		if q, dup := names[p.Name]; dup && p.Name != "" {
			l.rep.Errorf(l.at(p, siteName), "duplicate pipeline name %q (first declared on line %d)", p.Name, l.at(q, siteName).Line)
		}
		names[p.Name] = p
		if q, dup := groups[p.Group]; dup && p.Group != "" {
			l.rep.Errorf(l.at(p, siteGroup), "pipelines %q and %q use the same group %q: a group consumes one input once; give each pipeline its own group", q.Name, p.Name, p.Group)
		}
		groups[p.Group] = p
		in := p.Input.Topic
		if in == "" {
			continue
		}
		for _, name := range p.OutputList {
			if o := p.Outputs[name]; o.Topic == in {
				topic := func(s *pipelineSites) *conf.Node { return s.outputTopics[name] }
				l.rep.Errorf(l.at(p, topic), "pipeline %q: output %q writes to its own input topic %q", p.Name, name, in)
			}
		}
		for _, name := range p.OutputList {
			if o := p.Outputs[name]; o.Topic != "" && o.Topic == p.DeadLetter {
				topic := func(s *pipelineSites) *conf.Node { return s.outputTopics[name] }
				l.rep.Errorf(l.at(p, topic), "pipeline %q: output %q writes to the dead_letter topic %q", p.Name, name, o.Topic)
			}
		}
		if p.DeadLetter == in {
			l.rep.Errorf(l.at(p, siteDeadLetter), "pipeline %q: dead_letter is its own input topic %q", p.Name, in)
		}
		if p.Stateful() {
			if table := p.Group + "-table"; table == in {
				l.rep.Errorf(l.at(p, siteInput), "pipeline %q: topic %q is the group table of %q", p.Name, table, p.Group)
			} else if p.DeadLetter == table {
				l.rep.Errorf(l.at(p, siteDeadLetter), "pipeline %q: topic %q is the group table of %q", p.Name, table, p.Group)
			}
		}
	}
}

func parseKafkaVersion(v string) (sarama.KafkaVersion, error) {
	kv, err := sarama.ParseKafkaVersion(v)
	if err != nil {
		return kv, fmt.Errorf("invalid kafka version %q: %v", v, err)
	}
	if !kv.IsAtLeast(sarama.V2_8_0_0) {
		return kv, fmt.Errorf("kafka version %q is too old: sluice needs 2.8.0 or newer", v)
	}
	return kv, nil
}
