package pipetest

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/processors/config"
)

// Failure is one expectation a case did not meet, at its position in the
// test file; Diff shows want (-) against got (+), when there is one.
type Failure struct {
	Pos  config.Pos
	Msg  string
	Diff string
}

// Result is the outcome of one case.
type Result struct {
	Case     *Case
	Failures []Failure
}

// Runner runs the cases of test files against one loaded configuration.
type Runner struct {
	Config  *pipeline.Config
	Schemas *codecs.Schemas
}

// RunFile runs every case of f and writes a report to w: a block for each
// failing case, then "ok" or "FAIL" with the file's name. A case that could
// not run at all (a pipeline that does not start) is a failure too.
func (r *Runner) RunFile(f *File, w io.Writer) []Result {
	results := make([]Result, 0, len(f.Cases))
	failed := 0
	for _, c := range f.Cases {
		res := r.Run(c)
		results = append(results, res)
		if len(res.Failures) == 0 {
			continue
		}
		failed++
		fmt.Fprintf(w, "--- FAIL: %s (%s)\n", c.Name, c.Pos)
		for _, fl := range res.Failures {
			msg := strings.ReplaceAll(strings.TrimSpace(fl.Msg), "\n", "\n        ")
			fmt.Fprintf(w, "    %s: %s\n", fl.Pos, msg)
			if fl.Diff != "" {
				for _, line := range strings.Split(strings.TrimRight(fl.Diff, "\n"), "\n") {
					fmt.Fprintf(w, "        %s\n", line)
				}
			}
		}
	}
	if failed > 0 {
		fmt.Fprintf(w, "FAIL\t%s\t%d of %s failed\n", f.Path, failed, plural(len(f.Cases), "test"))
	} else {
		fmt.Fprintf(w, "ok\t%s\t%s\n", f.Path, plural(len(f.Cases), "test"))
	}
	return results
}

// Run runs one case in a fresh offline runtime: its pipeline and the
// pipelines whose tables it looks up, empty tables, an empty registry.
func (r *Runner) Run(c *Case) Result {
	res := Result{Case: c}
	fail := func(pos config.Pos, diff, format string, args ...any) {
		res.Failures = append(res.Failures, Failure{Pos: pos, Msg: fmt.Sprintf(format, args...), Diff: diff})
	}
	reg := newMemRegistry()
	only := []string{c.Pipeline.Name}
	for _, s := range c.Pipeline.Steps {
		if s.Table != "" && !slices.Contains(only, s.Table) {
			only = append(only, s.Table)
		}
	}
	off, err := pipeline.NewOffline(r.Config, pipeline.Options{
		Only:     only,
		Registry: reg,
		Schemas:  r.Schemas,
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fail(c.Pos, "", "starting pipeline %s: %v", c.Pipeline.Name, err)
		return res
	}
	r.check(c, off, reg, fail)
	if err := off.Close(); err != nil {
		// A pipeline that failed (a step that panicked) explains the rest.
		res.Failures = append([]Failure{{Pos: c.Pos, Msg: fmt.Sprintf("running pipeline %s: %v", c.Pipeline.Name, err)}}, res.Failures...)
	}
	return res
}

// check sends the case's inputs and checks its expectations, reporting
// each miss with fail.
func (r *Runner) check(c *Case, off *pipeline.Offline, reg *memRegistry, fail func(config.Pos, string, string, ...any)) {
	var err error
	for _, in := range c.Inputs {
		value := in.Value
		if in.writer != nil {
			if value, err = frame(reg, r.Schemas, in); err != nil {
				fail(in.Pos, "", "encoding the input: %v", err)
				return
			}
		}
		if err := off.Send(in.Topic, in.Key, value, in.Headers, in.Time); err != nil {
			fail(in.Pos, "", "consuming the input: %v", err)
			return
		}
	}
	for _, oe := range c.Outputs {
		got, err := r.outputRecords(reg, oe.Output, off.Records(oe.Output.Topic))
		if err != nil {
			fail(oe.Pos, "", "output %s: %v", oe.Name, err)
			continue
		}
		want := make([]any, len(oe.Records))
		for i, rec := range oe.Records {
			want[i] = map[string]any{"key": rec.Key, "value": normalise(rec.Value)}
		}
		if at, diff := compareLists(want, got); diff != "" {
			pos := oe.Pos
			if at < len(oe.Records) {
				pos = oe.Records[at].Pos
			}
			fail(pos, diff, "output %s: %s", oe.Name, listProblem(at, len(want), len(got)))
		}
	}
	if dl := c.DeadLetters; dl != nil {
		r.checkDeadLetters(c, dl, off.Records(c.Pipeline.DeadLetter), fail)
	}
	for _, se := range c.State {
		got, err := off.State(c.Pipeline.Name, se.Key)
		if err != nil {
			fail(se.Pos, "", "state of key %q: %v", se.Key, err)
			continue
		}
		var gotV any
		if got != nil {
			gotV = normalise(got)
		}
		want := normalise(se.Value)
		if diff := diffJSON(want, gotV); diff != "" {
			fail(se.Pos, diff, "state of key %q differs", se.Key)
		}
	}
}

// frame encodes an Avro input value with its writer schema, registered
// under the input topic's value subject, in the Confluent wire format.
func frame(reg *memRegistry, schemas *codecs.Schemas, in *Input) ([]byte, error) {
	c, err := codecs.NewAvro(reg, schemas, in.writer, codecs.WithSubjectName(in.Topic+"-value"))
	if err != nil {
		return nil, err
	}
	return c.Encode(in.canon)
}

// outputRecords decodes what a pipeline wrote to an output, in the JSON
// form expectations are written in.
func (r *Runner) outputRecords(reg *memRegistry, o *pipeline.Output, recs []pipeline.OfflineRecord) ([]any, error) {
	var avroCodec *codecs.Avro
	if o.Codec == pipeline.CodecAvro {
		var err error
		if avroCodec, err = codecs.NewAvro(reg, r.Schemas, o.Schema); err != nil {
			return nil, err
		}
	}
	out := make([]any, 0, len(recs))
	for i, rec := range recs {
		var v any
		switch o.Codec {
		case pipeline.CodecAvro:
			d, err := avroCodec.Decode(rec.Value)
			if err != nil {
				return nil, fmt.Errorf("record %d: %w", i+1, err)
			}
			v = codecs.ToJSON(d)
		case pipeline.CodecJSON:
			if err := json.Unmarshal(rec.Value, &v); err != nil {
				return nil, fmt.Errorf("record %d: %w", i+1, err)
			}
		default:
			v = string(rec.Value)
		}
		out = append(out, map[string]any{"key": rec.Key, "value": normalise(v)})
	}
	return out, nil
}

func (r *Runner) checkDeadLetters(c *Case, dl *DeadLettersExpect, recs []pipeline.OfflineRecord, fail func(config.Pos, string, string, ...any)) {
	var got []pipeline.OfflineRecord
	for _, rec := range recs {
		if rec.Headers[deadletter.HeaderPipeline] == c.Pipeline.Name {
			got = append(got, rec)
		}
	}
	wantLines := make([]string, len(dl.Letters))
	for i, d := range dl.Letters {
		wantLines[i] = d.String()
	}
	gotLines := make([]string, len(got))
	for i, rec := range got {
		var want *DeadLetterExpect
		if i < len(dl.Letters) {
			want = dl.Letters[i]
		}
		gotLines[i] = letterLine(rec, want)
	}
	for i := range max(len(dl.Letters), len(got)) {
		if i < len(dl.Letters) && i < len(got) && dl.Letters[i].matches(got[i]) {
			continue
		}
		pos := dl.Pos
		if i < len(dl.Letters) {
			pos = dl.Letters[i].Pos
		}
		// Each wanted letter shows what it checks; the diff pairs it with
		// the letter written, shown in full.
		want := slices.Clone(wantLines)
		for j := range min(len(dl.Letters), len(got)) {
			if dl.Letters[j].matches(got[j]) {
				want[j] = gotLines[j]
			}
		}
		fail(pos, diffLines(want, gotLines), "dead letters: %s", listProblem(i, len(dl.Letters), len(got)))
		return
	}
}

// String is the letter as its check reads: the fields it checks.
func (d *DeadLetterExpect) String() string {
	var parts []string
	if d.Key != nil {
		parts = append(parts, fmt.Sprintf("key=%q", *d.Key))
	}
	if d.Stage != "" {
		parts = append(parts, "stage="+d.Stage)
	}
	if d.Kind != "" {
		parts = append(parts, "kind="+d.Kind)
	}
	if d.Message != "" {
		parts = append(parts, fmt.Sprintf("message~%q", d.Message))
	}
	for _, k := range slices.Sorted(maps.Keys(d.Headers)) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, d.Headers[k]))
	}
	return strings.Join(parts, " ")
}

func (d *DeadLetterExpect) matches(rec pipeline.OfflineRecord) bool {
	h := rec.Headers
	for k, v := range d.Headers {
		if got, ok := h[k]; !ok || got != v {
			return false
		}
	}
	return (d.Key == nil || *d.Key == rec.Key) &&
		(d.Stage == "" || d.Stage == h[deadletter.HeaderStage]) &&
		(d.Kind == "" || d.Kind == h[deadletter.HeaderKind]) &&
		strings.Contains(h[deadletter.HeaderMessage], d.Message)
}

// letterLine shows a dead letter written: key, stage, kind and message,
// and the headers want names.
func letterLine(rec pipeline.OfflineRecord, want *DeadLetterExpect) string {
	h := rec.Headers
	line := fmt.Sprintf("key=%q stage=%s kind=%s message=%q", rec.Key, h[deadletter.HeaderStage], h[deadletter.HeaderKind], h[deadletter.HeaderMessage])
	if want == nil {
		return line
	}
	for _, k := range slices.Sorted(maps.Keys(want.Headers)) {
		if v, ok := h[k]; ok {
			line += fmt.Sprintf(" %s=%q", k, v)
		} else {
			line += fmt.Sprintf(" %s absent", k)
		}
	}
	return line
}
