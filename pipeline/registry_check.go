package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/registry/regclient"
)

// CheckRegistry checks, for every input with a registered schema (avro,
// json_schema, protobuf), that its subject exists in the registry at url
// (registry.url when empty) and, for Avro, that the pipeline's reader
// schema can read every version registered under it, and for every
// stateful pipeline that its state schema can read the registered ones
// (CheckState), asking with the
// credentials and TLS settings of cfg.Registry. It returns the problems
// found; the error is for a registry that cannot be asked or refuses the
// credentials.
func CheckRegistry(ctx context.Context, cfg *Config, url string) ([]string, error) {
	client, err := cfg.Registry.Client(url)
	if err != nil {
		return nil, err
	}
	strategy := subjectStrategies[cfg.Registry.SubjectStrategy]
	var problems []string
	for _, p := range cfg.Pipelines {
		if !p.Input.Registered() || !p.Input.HasSchema() {
			continue
		}
		subject := codecs.SubjectNamed(strategy, p.Input.Topic, false, p.Input.SchemaName())
		versions, err := client.Versions(ctx, subject)
		if err != nil {
			if regclient.IsNotFound(err) {
				problems = append(problems, fmt.Sprintf("%s: pipeline %s: subject %s does not exist in the registry (no producer has registered a schema for topic %s yet)", p.Pos, p.Name, subject, p.Input.Topic))
				continue
			}
			if regclient.IsAuthFailure(err) {
				return nil, credentialsRefused(client.URL(), err)
			}
			return nil, fmt.Errorf("asking the registry for %s: %w", subject, err)
		}
		if p.Input.Codec != CodecAvro {
			// JSON Schema and Protobuf writers are checked by the
			// registry's own compatibility rules when they register.
			continue
		}
		for _, v := range versions {
			s, err := client.SchemaByVersion(ctx, subject, v)
			if regclient.IsAuthFailure(err) {
				return nil, credentialsRefused(client.URL(), err)
			}
			if err != nil {
				return nil, fmt.Errorf("reading %s version %d: %w", subject, v, err)
			}
			writer, err := codecs.NewSchemas().Parse(s.Text)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: pipeline %s: %s version %d (id %d) does not parse: %v", p.Pos, p.Name, subject, v, s.ID, err))
				continue
			}
			if err := avro.NewSchemaCompatibility().Compatible(p.Input.Schema, writer); err != nil {
				problems = append(problems, fmt.Sprintf("%s: pipeline %s: reader schema %s cannot read %s version %d (id %d): %v", p.Pos, p.Name, p.Input.SchemaFile, subject, v, s.ID, err))
			}
		}
	}
	states, err := CheckState(ctx, cfg, client)
	if regclient.IsAuthFailure(err) {
		return nil, credentialsRefused(client.URL(), err)
	}
	if err != nil {
		return nil, err
	}
	return append(problems, states...), nil
}

// SchemaSubjects maps each schema file the pipelines use for their inputs and
// outputs (by absolute path) to the registry subjects it belongs under.
func SchemaSubjects(cfg *Config) map[string][]string {
	strategy := subjectStrategies[cfg.Registry.SubjectStrategy]
	dir := filepath.Dir(cfg.File)
	out := map[string][]string{}
	add := func(file, subject string) {
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		abs, _ := filepath.Abs(file)
		if !slices.Contains(out[abs], subject) {
			out[abs] = append(out[abs], subject)
		}
	}
	for _, p := range cfg.Pipelines {
		if p.Input.Registered() && p.Input.HasSchema() {
			add(p.Input.SchemaFile, codecs.SubjectNamed(strategy, p.Input.Topic, false, p.Input.SchemaName()))
		}
		for _, name := range p.OutputList {
			if o := p.Outputs[name]; o.Registered() && o.HasSchema() {
				add(o.SchemaFile, codecs.SubjectNamed(strategy, o.Topic, false, o.SchemaName()))
			}
		}
	}
	return out
}
