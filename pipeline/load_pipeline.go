package pipeline

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/processors"
	"github.com/sluicehq/sluice/processors/config"
)

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

type pipelineNodes struct {
	p     *Pipeline
	steps *config.Node
	m     *config.Map
}

func (l *loader) pipelines(n *config.Node, retry Retry) []*Pipeline {
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
		// The pipeline's tests are read by `sluice test` (internal/pipetest).
		if v := m.Get("tests"); v != nil && !v.IsList() {
			v.Errorf("expected a list of tests, got something else")
		}
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

// pipelineSites are where the values of a pipeline that problems between
// pipelines are about were written (zero when absent).
type pipelineSites struct {
	name, group, inputTopic, deadLetter config.Pos
	outputTopics                        map[string]config.Pos
}

func (l *loader) pipelineHead(n *config.Node, m *config.Map, retry Retry) *Pipeline {
	p := &Pipeline{Pos: n.Pos(), Outputs: map[string]*Output{}}
	at := &pipelineSites{outputTopics: map[string]config.Pos{}}
	l.sites[p] = at
	if v := m.Need("name"); v != nil {
		at.name, at.group = v.Pos(), v.Pos()
		p.Name = v.String()
		if p.Name == "" {
			v.Errorf("name must not be empty")
		} else if !namePattern.MatchString(p.Name) {
			v.Errorf("name %q may only contain letters, digits, '.', '_' and '-'", p.Name)
		}
	}
	p.Group = p.Name
	if v := m.Get("group"); v != nil {
		at.group = v.Pos()
		p.Group = v.String()
		if !namePattern.MatchString(p.Group) {
			v.Errorf("group %q may only contain letters, digits, '.', '_' and '-'", p.Group)
		}
	}
	if v := m.Need("input"); v != nil {
		var topic *config.Node
		if p.Input, topic = l.input(v); topic != nil {
			at.inputTopic = topic.Pos()
		}
	}
	if v := m.Need("dead_letter"); v != nil {
		var topic *config.Node
		p.DeadLetter, p.Breaker, topic = l.deadLetter(v)
		if topic != nil {
			at.deadLetter = topic.Pos()
		}
	}
	if v := m.Get("state"); v != nil {
		if sm := v.Map(); sm != nil {
			p.State = &State{}
			if s := sm.Need("schema"); s != nil {
				p.State.SchemaFile, p.State.Schema = l.schemaAt(s)
			}
			p.State.CacheEntries = DefaultStateCacheEntries
			if c := sm.Get("cache"); c != nil {
				if p.State.CacheEntries = l.int(c); p.State.CacheEntries < 0 {
					c.Errorf("cache must be 0 (off) or more entries, got %d", p.State.CacheEntries)
				}
			}
			sm.Done()
		}
	}
	p.Retry = l.retry(m.Get("retry"), retry)
	if v := m.Get("metrics"); v != nil {
		p.Metrics = l.metrics(v)
	}
	if v := m.Get("headers"); v != nil {
		p.Headers = l.headers(v)
	}
	if v := m.Get("outputs"); v != nil {
		if om := v.Map(); om != nil {
			for _, e := range om.Entries() {
				o, topic := l.output(e.Key, e.Value)
				if topic != nil {
					at.outputTopics[e.Key] = topic.Pos()
				}
				p.Outputs[e.Key] = o
				p.OutputList = append(p.OutputList, e.Key)
			}
		}
	}
	return p
}

// metrics reads `metrics: {steps: true|false}`.
func (l *loader) metrics(n *config.Node) Metrics {
	var out Metrics
	if !n.IsMap() {
		n.Errorf("metrics is a mapping {steps: true|false}")
		return out
	}
	m := n.Map()
	out.Steps = m.BoolOr("steps", false)
	m.Done()
	return out
}

// headers reads `headers: keep | drop | [name, ...]`.
func (l *loader) headers(n *config.Node) Headers {
	if !n.IsList() {
		switch s := n.String(); s {
		case "keep":
			return Headers{}
		case "drop":
			return Headers{Drop: true}
		default:
			n.Errorf("headers must be keep, drop or a list of header names to keep, got %q", s)
		}
		return Headers{}
	}
	h := Headers{Only: []string{}}
	for _, item := range n.List() {
		name := item.String()
		switch {
		case name == "":
			item.Errorf("a header name must not be empty")
		case strings.HasPrefix(name, "sluice."):
			item.Errorf("header %q: sluice.* headers are never copied to outputs", name)
		default:
			h.Only = append(h.Only, name)
		}
	}
	return h
}

func (l *loader) topicName(n *config.Node) string {
	t := n.String()
	if t == "" {
		n.Errorf("topic must not be empty")
	} else if !namePattern.MatchString(t) {
		n.Errorf("topic %q may only contain letters, digits, '.', '_' and '-'", t)
	}
	if len(t) > 249 {
		n.Errorf("topic name is longer than 249 characters")
	}
	return t
}

func (l *loader) input(n *config.Node) (in Input, topic *config.Node) {
	in.Endpoint, topic = l.endpoint(n, "input", "reader schema")
	return in, topic
}

func (l *loader) output(name string, n *config.Node) (o *Output, topic *config.Node) {
	o = &Output{Name: name}
	o.Endpoint, topic = l.endpoint(n, "output", "schema")
	return o, topic
}

// schemaFiles are the schema file kinds of the registered codecs.
var schemaFiles = map[string]string{
	CodecAvro:       "FILE",
	CodecJSONSchema: "FILE.json",
	CodecProtobuf:   "FILE.proto",
}

// endpoint reads {topic, codec, schema, message}; an avro, json_schema or
// protobuf endpoint without a schema is reported as lacking its what.
func (l *loader) endpoint(n *config.Node, role, what string) (e Endpoint, topic *config.Node) {
	e.Codec = CodecAvro
	m := n.Map()
	if m == nil {
		return e, nil
	}
	if topic = m.Need("topic"); topic != nil {
		e.Topic = l.topicName(topic)
	}
	e.Codec = l.codec(m.Get("codec"), e.Codec)
	msg := m.Get("message")
	if msg != nil {
		e.Message = msg.String()
		if e.Codec != CodecProtobuf {
			msg.Errorf("message names the message type of a protobuf %s; codec is %s", role, e.Codec)
		}
	}
	if v := m.Get("schema"); v != nil {
		l.endpointSchema(&e, v)
	}
	if kind, ok := schemaFiles[e.Codec]; ok && e.SchemaFile == "" {
		m.Node().Errorf("a%s %s %s needs a %s (schema: %s)", article(e.Codec), e.Codec, role, what, kind)
	}
	m.Done()
	return e, topic
}

// article is " n" before a codec name starting with a vowel sound.
func article(codec string) string {
	if codec == CodecAvro {
		return "n"
	}
	return ""
}

// endpointSchema reads the schema file of e's codec at n.
func (l *loader) endpointSchema(e *Endpoint, n *config.Node) {
	switch e.Codec {
	case CodecJSONSchema:
		path, full, err := l.schemaPath(n.String())
		e.SchemaFile = path
		if err == nil {
			e.JSONSchema, err = codecs.ParseJSONSchemaFile(full)
		}
		if err != nil {
			n.Errorf("%v", err)
		}
	case CodecProtobuf:
		path, full, err := l.schemaPath(n.String())
		e.SchemaFile = path
		if err == nil {
			e.Proto, err = codecs.ParseProtoFile(full, e.Message)
		}
		if err != nil {
			n.Errorf("%v", err)
		}
	default:
		e.SchemaFile, e.Schema = l.schemaAt(n)
	}
}

func (l *loader) codec(n *config.Node, def string) string {
	if n == nil {
		return def
	}
	c := n.String()
	switch c {
	case CodecAvro, CodecJSONSchema, CodecProtobuf, CodecJSON, CodecString, CodecBytes:
		return c
	}
	n.Errorf("unknown codec %q (avro, json_schema, protobuf, json, string or bytes)", c)
	return "" // not def: an unknown codec must not also be told it lacks an avro schema
}

func (l *loader) steps(p *Pipeline, n *config.Node, tables map[string]*processors.Type) []*Step {
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
		var cfgNode *config.Node
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
			if near := config.Suggest(typ, names); near != "" {
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
			switch s.Table = t.Table(); {
			case s.Table == "":
			case s.Table == p.Name:
				cfgNode.Errorf("%s: pipeline %q cannot look up its own table; its steps read it as state", typ, p.Name)
			case tables[s.Table] == nil:
				// The built-in lookup says so itself; a custom step that
				// names a table gets the same check here.
				if typ != "lookup" {
					cfgNode.Errorf("%s: no stateful pipeline named %q to look up", typ, s.Table)
				}
				s.Table = ""
			}
		}
		s.Type, s.Impl = typ, impl
		steps = append(steps, s)
	}
	l.checkWindowed(p, steps)
	return steps
}

// checkWindowed checks a pipeline with a window step: one window step, no
// aggregate (both keep the key's state), and Avro outputs that declare the
// window's bounds.
func (l *loader) checkWindowed(p *Pipeline, steps []*Step) {
	var window *Step
	for _, s := range steps {
		if _, ok := s.Impl.(processors.WindowCloser); !ok {
			continue
		}
		if window != nil {
			l.rep.Errorf(s.Pos, "pipeline %q has a second window step (the first is on line %d): a pipeline keeps one kind of window", p.Name, window.Pos.Line)
			continue
		}
		window = s
	}
	if window == nil {
		return
	}
	for _, s := range steps {
		if s.Type == "aggregate" {
			l.rep.Errorf(s.Pos, "pipeline %q has both a window step (line %d) and an aggregate step: both keep the key's state; use one", p.Name, window.Pos.Line)
		}
	}
	at := l.sites[p]
	for _, name := range p.OutputList {
		o := p.Outputs[name]
		if o.Codec != CodecAvro || o.Schema == nil {
			continue
		}
		t := processors.TypeOf(o.Schema)
		pos := p.Pos
		if at != nil {
			pos = where(p, at.outputTopics[name])
		}
		for _, field := range []string{processors.FieldWindowStart, processors.FieldWindowEnd} {
			f, ok := t.Field(field)
			if !ok {
				l.rep.Errorf(pos, "output %q: schema %s lacks field %q: the outputs of a window pipeline carry window_start and window_end (long, timestamp-millis)", name, o.SchemaFile, field)
				continue
			}
			if k := f.Go; k == nil || (k.String() != "time.Time" && k.String() != "int64") {
				l.rep.Errorf(pos, "output %q: field %q of schema %s must be a long (timestamp-millis), it holds the window's bound", name, field, o.SchemaFile)
			}
		}
	}
}

// inputType is what the first step sees.
func inputType(in Input) *processors.Type {
	switch in.Codec {
	case CodecAvro:
		if in.Schema != nil {
			return processors.TypeOf(in.Schema)
		}
	case CodecJSONSchema:
		if in.JSONSchema != nil {
			return processors.TypeOfJSONSchema(in.JSONSchema.Schema)
		}
	case CodecProtobuf:
		if in.Proto != nil {
			return processors.TypeOfProto(in.Proto.Message)
		}
	case CodecJSON:
		return &processors.Type{Fields: []processors.Field{}, Open: true}
	}
	return nil
}

// where is pos, or the position of pipeline p when pos was not recorded.
func where(p *Pipeline, pos config.Pos) config.Pos {
	if pos.Line == 0 {
		return p.Pos
	}
	return pos
}

// crossCheck finds problems between pipelines: duplicate names and groups,
// topic conflicts, lookups of unknown tables.
func (l *loader) crossCheck(cfg *Config) {
	names := map[string]*Pipeline{}
	groups := map[string]*Pipeline{}
	at := func(p *Pipeline) *pipelineSites {
		if s := l.sites[p]; s != nil {
			return s
		}
		return &pipelineSites{}
	}
	tables := map[string]*Pipeline{} // group table topic -> its pipeline
	for _, p := range cfg.Pipelines {
		if p.Stateful() && p.Group != "" {
			tables[TableTopic(p.Group)] = p
		}
	}
	for _, p := range cfg.Pipelines {
		s := at(p)
		if q, dup := names[p.Name]; dup && p.Name != "" {
			l.rep.Errorf(where(p, s.name), "duplicate pipeline name %q (first declared on line %d)", p.Name, where(q, at(q).name).Line)
		}
		names[p.Name] = p
		if q, dup := groups[p.Group]; dup && p.Group != "" {
			l.rep.Errorf(where(p, s.group), "pipelines %q and %q use the same group %q: a group consumes one input once; give each pipeline its own group", q.Name, p.Name, p.Group)
		}
		groups[p.Group] = p
		in := p.Input.Topic
		if in == "" {
			continue
		}
		for _, name := range p.OutputList {
			o, pos := p.Outputs[name], where(p, s.outputTopics[name])
			if o.Topic == in {
				l.rep.Errorf(pos, "pipeline %q: output %q writes to its own input topic %q", p.Name, name, in)
			}
			if o.Topic != "" && o.Topic == p.DeadLetter {
				l.rep.Errorf(pos, "pipeline %q: output %q writes to the dead_letter topic %q", p.Name, name, o.Topic)
			}
			if q := tables[o.Topic]; q != nil {
				l.rep.Errorf(pos, "pipeline %q: output %q writes to %q, the group table of pipeline %q", p.Name, name, o.Topic, q.Name)
			}
		}
		if p.DeadLetter == in {
			l.rep.Errorf(where(p, s.deadLetter), "pipeline %q: dead_letter is its own input topic %q", p.Name, in)
		}
		if q := tables[in]; q == p {
			l.rep.Errorf(where(p, s.inputTopic), "pipeline %q: input %q is its own group table", p.Name, in)
		}
		if q := tables[p.DeadLetter]; q != nil {
			l.rep.Errorf(where(p, s.deadLetter), "pipeline %q: dead_letter %q is the group table of pipeline %q", p.Name, p.DeadLetter, q.Name)
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
