package pipetest

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/bounded"
	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/processors/config"
)

// MaxFileBytes bounds a test file, like a pipelines file.
const MaxFileBytes = pipeline.MaxConfigBytes

// File is a test file: its cases, in file order.
type File struct {
	Path  string
	Cases []*Case
}

// Case is one test: records for a pipeline's input and what must come out.
type Case struct {
	Name     string
	Pos      config.Pos
	Pipeline *pipeline.Pipeline
	Inputs   []*Input
	// Outputs are the expected records per output name, in the order the
	// file gives them; an output not named is not checked.
	Outputs []*OutputExpect
	// DeadLetters is nil when the case does not check dead letters.
	DeadLetters *DeadLettersExpect
	State       []*StateExpect
}

// Input is one record the pipeline consumes.
type Input struct {
	Pos     config.Pos
	Topic   string
	Key     string
	Value   []byte // nil: a tombstone (null value)
	Headers map[string][]byte
	Time    time.Time
	// writer is the Avro schema the value is written with, and canon the
	// value in its canonical form: the value is framed at run time, with
	// the id the case's registry gives the schema.
	writer avro.Schema
	canon  any
}

// OutputExpect is the records expected on one output, in order.
type OutputExpect struct {
	Pos     config.Pos
	Name    string
	Output  *pipeline.Output
	Records []*RecordExpect
}

// RecordExpect is one expected output record, compared whole as JSON.
type RecordExpect struct {
	Pos   config.Pos
	Key   string
	Value any // JSON form
}

// DeadLettersExpect is every dead letter the pipeline must write, in order.
type DeadLettersExpect struct {
	Pos     config.Pos
	Letters []*DeadLetterExpect
}

// DeadLetterExpect is one expected dead letter; empty fields are not checked.
type DeadLetterExpect struct {
	Pos     config.Pos
	Key     *string
	Stage   string
	Kind    string
	Message string // a substring of sluice.error.message
	// Headers must be on the letter with these values (the input's
	// headers, sluice.source.timestamp, ...); others are not checked.
	Headers map[string]string
}

// StateExpect is a key's final state, compared whole as JSON; a nil Value
// expects no state.
type StateExpect struct {
	Pos   config.Pos
	Key   string
	Value any
}

// Load reads a test file of the pipelines in cfg (loaded with schemas),
// expanding ${VAR} with getenv.
// Every problem is returned at once as config.Errors (or one *config.Error),
// "file:line:col: message".
func Load(path string, cfg *pipeline.Config, schemas *codecs.Schemas, getenv func(string) string) (*File, error) {
	src, err := bounded.ReadFile(path, MaxFileBytes)
	if err != nil {
		return nil, &config.Error{Pos: config.Pos{File: path, Line: 1, Col: 1}, Msg: err.Error()}
	}
	rep := &config.Reporter{}
	root, err := config.ParseFile(path, src, getenv, rep)
	if err != nil {
		return nil, err
	}
	l := &fileLoader{cfg: cfg, schemas: schemas, dir: filepath.Dir(path), names: map[string]bool{}}
	f := &File{Path: path}
	if m := root.Map(); m != nil {
		tests := m.Need("tests")
		m.Done()
		if tests != nil {
			f.Cases = l.testCases(tests, nil)
			if len(f.Cases) == 0 && rep.Len() == 0 {
				tests.Errorf("no tests in the list")
			}
		}
	}
	if err := rep.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

// LoadInline reads the tests written in the pipelines file itself, in the
// `tests:` list of a pipeline (whose cases need no `pipeline:` key). The
// File has no cases when there are none.
func LoadInline(cfg *pipeline.Config, schemas *codecs.Schemas, getenv func(string) string) (*File, error) {
	path := cfg.File
	src, err := bounded.ReadFile(path, pipeline.MaxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("reading pipelines: %w", err)
	}
	rep := &config.Reporter{}
	root, err := config.ParseFile(path, src, getenv, rep)
	if err != nil {
		return nil, err
	}
	l := &fileLoader{cfg: cfg, schemas: schemas, dir: filepath.Dir(path), names: map[string]bool{}}
	f := &File{Path: path}
	// The pipelines file was loaded already: only the tests are read here,
	// and the rest is not checked again.
	if m := root.Map(); m != nil && m.Has("pipelines") {
		for _, item := range m.Get("pipelines").List() {
			pm := item.Map()
			if pm == nil || !pm.Has("tests") || !pm.Has("name") {
				continue
			}
			p := cfg.Pipeline(pm.Get("name").String())
			if p == nil {
				continue
			}
			f.Cases = append(f.Cases, l.testCases(pm.Get("tests"), p)...)
		}
	}
	if err := rep.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

// testCases reads a list of tests; of pipeline p when it is not nil.
func (l *fileLoader) testCases(tests *config.Node, p *pipeline.Pipeline) []*Case {
	var cases []*Case
	for _, n := range tests.List() {
		if c := l.testCase(n, p); c != nil {
			if l.names[c.Name] {
				n.Errorf("a test named %q comes earlier in this file", c.Name)
			}
			l.names[c.Name] = true
			cases = append(cases, c)
		}
	}
	return cases
}

type fileLoader struct {
	cfg     *pipeline.Config
	schemas *codecs.Schemas
	dir     string
	// names are the test names read so far.
	names map[string]bool
}

// testCase reads one test; of pipeline p when it is not nil (a test in the
// pipeline's own tests: list), else of the pipeline it names.
func (l *fileLoader) testCase(n *config.Node, p *pipeline.Pipeline) *Case {
	m := n.Map()
	if m == nil {
		return nil
	}
	defer m.Done()
	c := &Case{Pos: n.Pos(), Pipeline: p}
	if v := m.Need("name"); v != nil {
		c.Name = v.String()
	}
	switch v := m.Get("pipeline"); {
	case v != nil && p != nil:
		if name := v.String(); name != p.Name {
			v.Errorf("this test is in the tests of pipeline %s, not %s", p.Name, name)
		}
	case v != nil:
		name := v.String()
		if c.Pipeline = l.cfg.Pipeline(name); c.Pipeline == nil {
			v.Errorf("no pipeline named %q in %s (pipelines: %s)", name, l.cfg.File, strings.Join(l.pipelineNames(), ", "))
		}
	case p == nil:
		m.Node().Errorf("missing required field %q", "pipeline")
	}
	if c.Pipeline == nil {
		// Without its pipeline the rest cannot be checked; it is not unknown.
		m.Get("input")
		m.Get("expect")
		return nil
	}
	if v := m.Need("input"); v != nil {
		for _, in := range v.List() {
			if i := l.input(c.Pipeline, in); i != nil {
				c.Inputs = append(c.Inputs, i)
			}
		}
	}
	if v := m.Need("expect"); v != nil {
		l.expect(c, v)
	}
	return c
}

func (l *fileLoader) pipelineNames() []string {
	names := make([]string, len(l.cfg.Pipelines))
	for i, p := range l.cfg.Pipelines {
		names[i] = p.Name
	}
	return names
}

// input reads one input record: key, value (or raw), schema, headers,
// timestamp, topic.
func (l *fileLoader) input(p *pipeline.Pipeline, n *config.Node) *Input {
	m := n.Map()
	if m == nil {
		return nil
	}
	defer m.Done()
	in := &Input{Pos: n.Pos(), Topic: p.Input.Topic}
	in.Topic = m.StringOr("topic", in.Topic)
	in.Key = m.StringOr("key", "")
	if v := m.Get("headers"); v != nil {
		if hm := v.Map(); hm != nil {
			in.Headers = map[string][]byte{}
			for _, e := range hm.Entries() {
				in.Headers[e.Key] = []byte(e.Value.String())
			}
		}
	}
	if v := m.Get("timestamp"); v != nil {
		in.Time = timestamp(v)
	}
	value, raw, schema := m.Get("value"), m.Get("raw"), m.Get("schema")
	switch {
	case value != nil && raw != nil:
		raw.Errorf("give value or raw, not both")
	case raw != nil:
		if schema != nil {
			schema.Errorf("schema applies to value; raw bytes are sent as they are")
		}
		in.Value = []byte(raw.String())
	case value == nil:
		m.Node().Errorf("missing required field %q (or raw: bytes sent as they are)", "value")
	case value.IsNull():
		if schema != nil {
			schema.Errorf("a null value (a tombstone) has no schema")
		}
	default:
		l.encodeValue(p, in, value, schema)
	}
	return in
}

// encodeValue checks value against the input's codec and keeps it ready to
// send: JSON text, a string, or an Avro value framed at run time.
func (l *fileLoader) encodeValue(p *pipeline.Pipeline, in *Input, value, schema *config.Node) {
	v := jsonValue(value)
	codec := p.Input.Codec
	if schema != nil && codec != pipeline.CodecAvro {
		schema.Errorf("the input of pipeline %s is %s, not avro: it has no writer schema", p.Name, codec)
		return
	}
	switch codec {
	case pipeline.CodecAvro:
		in.writer = p.Input.Schema
		if schema != nil {
			path := schema.String()
			if !filepath.IsAbs(path) {
				path = filepath.Join(l.dir, path)
			}
			s, err := l.schemas.ParseFile(path)
			if err != nil {
				schema.Errorf("writer schema: %v", err)
				return
			}
			in.writer = s
		}
		canon, err := codecs.CoerceStrict(in.writer, v)
		if err != nil {
			value.Errorf("the value does not fit the writer schema: %v", err)
			return
		}
		in.canon = canon
		in.Value = []byte{} // framed at run time
	case pipeline.CodecJSON:
		b, err := json.Marshal(v)
		if err != nil {
			value.Errorf("the value is not JSON: %v", err)
			return
		}
		in.Value = b
	default: // string, bytes
		s, ok := v.(string)
		if !ok {
			value.Errorf("the input of pipeline %s is %s: give the value as a string", p.Name, codec)
			return
		}
		in.Value = []byte(s)
	}
}

// timestamp reads Unix milliseconds or an RFC 3339 time.
func timestamp(n *config.Node) time.Time {
	switch v := n.Value().(type) {
	case int64:
		return time.UnixMilli(v).UTC()
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			n.Errorf("expected Unix milliseconds or an RFC 3339 time, got %q", v)
		}
		return t
	}
	n.Errorf("expected Unix milliseconds or an RFC 3339 time")
	return time.Time{}
}

// Find returns the test files of the pipelines file at path: every
// *_test.yaml in its folder, sorted.
func Find(pipelinesPath string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(filepath.Dir(pipelinesPath), "*_test.yaml"))
	if err != nil {
		return nil, fmt.Errorf("finding test files: %w", err)
	}
	return files, nil
}
