package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/bounded"
	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/registry/regclient"
)

type schemasFlags struct {
	dir, file, registry string
	regAuth             registryAuthFlags
}

func (a *app) schemasCmd() *cobra.Command {
	f := &schemasFlags{}
	cmd := &cobra.Command{
		Use:   "schemas",
		Short: "Register schema files in the registry, or check them for compatibility",
		Long: `Each schema file in --dir (Avro *.avsc, JSON Schema *.json, Protobuf *.proto,
registered as schemaType AVRO, JSON and PROTOBUF) maps to registry subjects
through the pipelines file: a file used as a pipeline's input schema goes under
that input topic's value subject (user-topic-value), a file used by an output
under the output topic's (user-stats-value), following
registry.subject_strategy. A file no pipeline uses goes under its record's
full name (RecordNameStrategy): the Avro record's, the JSON Schema's title,
the first message of the .proto file.`,
	}
	cmd.PersistentFlags().StringVar(&f.dir, "dir", "schemas", "folder of schema files (*.avsc, *.json, *.proto)")
	cmd.PersistentFlags().StringVarP(&f.file, "file", "f", "pipelines.yaml", "pipelines file that maps schema files to subjects")
	cmd.PersistentFlags().StringVar(&f.registry, "registry", "", "schema registry URL (default $SLUICE_REGISTRY_URL, then registry.url)")
	addRegistryAuthFlags(cmd.PersistentFlags(), &f.regAuth)
	cmd.AddCommand(&cobra.Command{
		Use:   "push",
		Short: "Register every schema file under its subjects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reg, entries, err := a.schemasClient(f)
			if err != nil {
				return err
			}
			return pushSchemas(cmd.Context(), reg, entries, a.stdout)
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Ask the registry whether every schema file is compatible with its subjects; register nothing",
		Long: `check exits 0 when every file is compatible with the latest version of its
subjects under their compatibility level (a subject that does not exist yet is
compatible), and 1 naming the subject and the incompatible field otherwise:
use it as the CI gate for schema evolution. It also checks the state schema of
every stateful pipeline against all the versions registered under its state
subject (<group>-state-value), as sluice run does before it starts.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.schemasCheck(cmd.Context(), f)
		},
	})
	requireSubcommand(cmd)
	return cmd
}

func (a *app) schemasCheck(ctx context.Context, f *schemasFlags) error {
	reg, entries, err := a.schemasClient(f)
	if err != nil {
		return err
	}
	ok, err := checkSchemas(ctx, reg, entries, a.stdout)
	if err != nil {
		return err
	}
	if _, statErr := os.Stat(f.file); statErr == nil {
		cfg, err := a.loadConfig(f.file)
		if err != nil {
			return err
		}
		statesOK, err := checkStates(ctx, reg, cfg, a.stdout)
		if err != nil {
			return err
		}
		ok = ok && statesOK
	}
	if !ok {
		return errors.New("some schemas are not compatible with their subjects (see above)")
	}
	return nil
}

// schemasClient returns the client of the registry `sluice schemas` talks
// to, with the credentials and TLS settings of the pipelines file's registry
// section overridden by the --registry-* flags, and the entries to send.
func (a *app) schemasClient(f *schemasFlags) (*regclient.Client, []schemaEntry, error) {
	url, settings, entries, err := a.schemaEntries(f)
	if err != nil {
		return nil, nil, err
	}
	f.regAuth.resolve(a.getenv)
	reg, err := f.regAuth.registryClient(settings, url)
	if err != nil {
		return nil, nil, err
	}
	return reg, entries, nil
}

// schemaEntries maps the files of f.dir to subjects, and returns the
// registry URL and the pipelines file's registry settings (zero without one).
func (a *app) schemaEntries(f *schemasFlags) (string, pipeline.Registry, []schemaEntry, error) {
	var files []string
	for _, pattern := range []string{"*.avsc", "*.json", "*.proto"} {
		matched, err := filepath.Glob(filepath.Join(f.dir, pattern))
		if err != nil {
			return "", pipeline.Registry{}, nil, usagef("--dir: %v", err)
		}
		files = append(files, matched...)
	}
	if len(files) == 0 {
		return "", pipeline.Registry{}, nil, usagef("--dir %s: no schema files (*.avsc, *.json, *.proto)", f.dir)
	}
	sort.Strings(files)
	var cfg *pipeline.Config
	if _, err := os.Stat(f.file); err == nil {
		if cfg, err = a.loadConfig(f.file); err != nil {
			return "", pipeline.Registry{}, nil, err
		}
	} else if f.file != "pipelines.yaml" {
		return "", pipeline.Registry{}, nil, usagef("--file: %v", err)
	}
	url := a.flagOrEnv(f.registry, envRegistryURL)
	if url == "" && cfg != nil {
		url = cfg.Registry.URL
	}
	if url == "" {
		return "", pipeline.Registry{}, nil, usagef("no registry: pass --registry or set $SLUICE_REGISTRY_URL")
	}
	subjects := map[string][]string{}
	if cfg != nil {
		subjects = pipeline.SchemaSubjects(cfg)
	}
	var entries []schemaEntry
	for _, file := range files {
		text, err := bounded.ReadFile(file, codecs.MaxSchemaFileBytes)
		var refused *bounded.Error
		switch {
		case errors.As(err, &refused):
			return "", pipeline.Registry{}, nil, usagef("%v", err)
		case err != nil:
			return "", pipeline.Registry{}, nil, fmt.Errorf("reading %s: %w", file, err)
		}
		typ := schemaFileType(file)
		name, err := schemaRecordName(typ, string(text))
		if err != nil {
			return "", pipeline.Registry{}, nil, usagef("%s: %v", file, err)
		}
		abs, _ := filepath.Abs(file)
		subs := subjects[abs]
		if len(subs) == 0 {
			if name == "" {
				return "", pipeline.Registry{}, nil, usagef("%s: no pipeline uses it and it has no record name (a JSON Schema needs a title) to name its subject", file)
			}
			subs = []string{codecs.SubjectNamed(codecs.RecordNameStrategy, "", false, name)}
		}
		for _, sub := range subs {
			entries = append(entries, schemaEntry{File: file, Subject: sub, Type: typ, Schema: string(text)})
		}
	}
	var settings pipeline.Registry
	if cfg != nil {
		settings = cfg.Registry
	}
	return url, settings, entries, nil
}

// schemaRecordName parses a schema file's text of type typ and returns its
// record name (see codecs.SubjectNamed): "" when it has none.
func schemaRecordName(typ, text string) (string, error) {
	switch typ {
	case regclient.TypeJSON:
		d, err := codecs.ParseJSONSchema(text)
		if err != nil {
			return "", err
		}
		return d.Name(), nil
	case regclient.TypeProtobuf:
		pm, err := codecs.ParseProto(text, "")
		if err != nil {
			return "", err
		}
		return string(pm.Message.FullName()), nil
	}
	s, err := codecs.NewSchemas().Parse(text)
	if err != nil {
		return "", err
	}
	return codecs.Subject(codecs.RecordNameStrategy, "", false, s), nil
}
