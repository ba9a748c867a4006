package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/registry/regclient"
)

// StateRegistry is what keeping state schemas in the registry asks of it
// (a *regclient.Client).
type StateRegistry interface {
	Versions(ctx context.Context, subject string) ([]int, error)
	SchemaByVersion(ctx context.Context, subject string, version int) (regclient.Schema, error)
	SchemaByID(ctx context.Context, id int) (regclient.Schema, error)
	Register(ctx context.Context, subject, schema string) (int, error)
}

var _ StateRegistry = (*regclient.Client)(nil)

// storedStates reads the entry schemas registered under subject, by id, and
// checks that entry, the pipeline's entry schema, can read each of them
// (BACKWARD_TRANSITIVE: entries of every earlier state schema may still be
// in the table). problems has one line per version it cannot read, naming
// the field; a subject that does not exist yet has none.
func storedStates(ctx context.Context, reg StateRegistry, subject string, entry avro.Schema) (texts map[int]string, problems []string, err error) {
	versions, err := reg.Versions(ctx, subject)
	if regclient.IsNotFound(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	texts = map[int]string{}
	for _, v := range versions {
		s, err := reg.SchemaByVersion(ctx, subject, v)
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s version %d: %w", subject, v, err)
		}
		writer, err := codecs.NewSchemas().Parse(s.Text)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s version %d (id %d) does not parse: %v", subject, v, s.ID, err))
			continue
		}
		if why := stateIncompatibility(entry, writer); why != "" {
			problems = append(problems, fmt.Sprintf("%s version %d (id %d): %s", subject, v, s.ID, why))
			continue
		}
		texts[s.ID] = s.Text
	}
	return texts, problems, nil
}

// stateIncompatibility says why entry schema reader cannot read entries of
// entry schema writer, naming the state field to blame; "" when it can.
func stateIncompatibility(reader, writer avro.Schema) string {
	// A fresh checker every time: a shared or reused one has given wrong answers.
	err := avro.NewSchemaCompatibility().Compatible(reader, writer)
	if err == nil {
		return ""
	}
	rs, rerr := stateOf(reader)
	ws, werr := stateOf(writer)
	if rerr != nil || werr != nil {
		return fmt.Sprintf("not a table entry schema of this kind: %v", err)
	}
	rrec, rok := rs.(*avro.RecordSchema)
	wrec, wok := ws.(*avro.RecordSchema)
	if !rok || !wok {
		return fmt.Sprintf("the state cannot be read: %v", err)
	}
	for _, rf := range rrec.Fields() {
		var wf *avro.Field
		for _, f := range wrec.Fields() {
			if f.Name() == rf.Name() || slices.Contains(rf.Aliases(), f.Name()) {
				wf = f
			}
		}
		switch {
		case wf == nil && !rf.HasDefault():
			return fmt.Sprintf("state field %q is new and has no default, so the entries stored without it cannot be read (give it a default)", rf.Name())
		case wf != nil:
			if ferr := avro.NewSchemaCompatibility().Compatible(rf.Type(), wf.Type()); ferr != nil {
				return fmt.Sprintf("state field %q changed type: %v", rf.Name(), ferr)
			}
		}
	}
	return fmt.Sprintf("the state cannot be read: %v", err)
}

// EntrySchema returns the entry schema registered under StateSubject for
// pipelines whose state schema is state (record sluice.state.Entry, see
// tableCodec), as JSON.
func EntrySchema(state avro.Schema) (string, error) {
	c, err := newTableCodec(state)
	if err != nil {
		return "", err
	}
	return entryText(c)
}

// entryText is the JSON of codec c's entry schema, as registered.
func entryText(c *tableCodec) (string, error) {
	b, err := json.Marshal(c.entry)
	if err != nil {
		return "", fmt.Errorf("table entry schema: %w", err)
	}
	return string(b), nil
}

// registerState registers the pipeline's entry schema under its state
// subject once the schemas registered there before pass the check, and
// sets its table codec (and those of the tables it looks up) to read the
// registered ids. Without a registry client the entries keep local ids.
// Like check, it returns a reason to wait (the registry is away) or an
// error for what waiting cannot fix.
func (sv *Supervisor) registerState(ctx context.Context, run *pipelineProcess) (reason string, level slog.Level, err error) {
	reg, ok := sv.client.(StateRegistry)
	if !ok {
		return "", 0, nil
	}
	fetch := func(ctx context.Context, id int) (string, error) {
		s, err := reg.SchemaByID(ctx, id)
		if err != nil {
			return "", err
		}
		return s.Text, nil
	}
	for _, c := range run.lookupCodecs {
		c.useRegistry(fetch)
	}
	if run.table == nil {
		return "", 0, nil
	}
	p := run.p
	subject := StateSubject(p.Group)
	wait := func(err error) (string, slog.Level, error) {
		if regclient.IsAuthFailure(err) {
			return "", 0, credentialsRefused(sv.registryURL(), err)
		}
		reason, level := registryProblem(sv.registryURL(), subject, err)
		return reason, level, nil
	}
	texts, problems, err := storedStates(ctx, reg, subject, run.table.entry)
	if err != nil {
		return wait(err)
	}
	if len(problems) > 0 {
		return "", 0, fmt.Errorf("state schema %s cannot read the state stored in group %s's table: %s; "+
			"see \"Changing a pipeline\" in the README", p.State.SchemaFile, p.Group, strings.Join(problems, "; "))
	}
	text, err := entryText(run.table)
	if err != nil {
		return "", 0, err
	}
	id, err := reg.Register(ctx, subject, text)
	if err != nil {
		var re *regclient.Error
		if errors.As(err, &re) && (re.StatusCode == http.StatusConflict || re.StatusCode == http.StatusUnprocessableEntity) {
			return "", 0, fmt.Errorf("the schema registry refuses the state schema %s under subject %s: %w", p.State.SchemaFile, subject, err)
		}
		return wait(err)
	}
	if err := run.table.registered(id, texts, fetch); err != nil {
		return "", 0, fmt.Errorf("state subject %s: %w", subject, err)
	}
	return "", 0, nil
}

// registryURL is the URL of the supervisor's registry client ("" unknown).
func (sv *Supervisor) registryURL() string {
	if probe, ok := sv.client.(registryProbe); ok {
		return probe.URL()
	}
	return ""
}

// CheckState checks, for every stateful pipeline, that its state schema can
// read the state schemas registered under its state subject: what `sluice
// validate --registry` and `sluice schemas check` report, and what stops
// `sluice run` from starting. Each problem names the pipeline's position,
// the registered version and the field.
func CheckState(ctx context.Context, cfg *Config, reg StateRegistry) (problems []string, err error) {
	for _, p := range cfg.Pipelines {
		found, err := CheckPipelineState(ctx, p, reg)
		if err != nil {
			return nil, err
		}
		for _, f := range found {
			problems = append(problems, fmt.Sprintf("%s: pipeline %s: state schema %s cannot read the stored state: %s", p.Pos, p.Name, p.State.SchemaFile, f))
		}
	}
	return problems, nil
}

// CheckPipelineState checks one pipeline's state schema against the ones
// registered under StateSubject(p.Group) (none for a stateless pipeline).
func CheckPipelineState(ctx context.Context, p *Pipeline, reg StateRegistry) (problems []string, err error) {
	if !p.Stateful() {
		return nil, nil
	}
	c, err := newTableCodec(p.State.Schema)
	if err != nil {
		return nil, fmt.Errorf("pipeline %s: %w", p.Name, err)
	}
	subject := StateSubject(p.Group)
	_, problems, err = storedStates(ctx, reg, subject, c.entry)
	if err != nil {
		return nil, fmt.Errorf("asking the registry for %s: %w", subject, err)
	}
	return problems, nil
}
