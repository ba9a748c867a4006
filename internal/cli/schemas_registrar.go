package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/registry/regclient"
)

// schemaEntry is one schema file and the registry subject it belongs under.
type schemaEntry struct {
	File    string // shown in output and errors
	Subject string
	Type    string // AVRO, JSON or PROTOBUF
	Schema  string // the schema text
}

// newSchemasRegistry returns a client of the open registry at registryURL;
// a bad URL is a usage error.
func newSchemasRegistry(registryURL string) (*regclient.Client, error) {
	reg, err := regclient.New(regclient.Config{URL: registryURL})
	if err != nil {
		return nil, usagef("%v", err)
	}
	return reg, nil
}

// pushSchemas registers every entry's schema under its subject, in order, and
// prints one line per entry: subject, version, id, file. Registering a schema
// the subject already has is a no-op in the registry (same id and version).
// It stops at the first failure; the error names the file and subject and
// carries the registry's answer (an incompatible schema is rejected with 409
// and the reason).
func pushSchemas(ctx context.Context, reg *regclient.Client, entries []schemaEntry, out io.Writer) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBJECT\tVERSION\tID\tFILE")
	defer tw.Flush()
	for _, e := range entries {
		id, err := reg.RegisterAs(ctx, e.Subject, e.Type, e.Schema)
		if err != nil {
			return fmt.Errorf("%s: registering under %s: %w", e.File, e.Subject, err)
		}
		_, version, err := reg.LookupAs(ctx, e.Subject, e.Type, e.Schema)
		if err != nil {
			return fmt.Errorf("%s: looking up version under %s: %w", e.File, e.Subject, err)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", e.Subject, version, id, e.File)
	}
	return nil
}

// checkSchemas asks the registry whether each entry's schema is compatible
// with the latest version of its subject under the subject's compatibility
// level. It registers nothing. It prints per subject "compatible",
// "compatible (new subject)" or "INCOMPATIBLE" followed by the registry's
// messages, which name the offending fields. ok is false when any entry is
// incompatible; err reports a registry that could not answer.
func checkSchemas(ctx context.Context, reg *regclient.Client, entries []schemaEntry, out io.Writer) (ok bool, err error) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	ok = true
	for _, e := range entries {
		_, err := reg.Versions(ctx, e.Subject)
		var re *regclient.Error
		if errors.As(err, &re) && re.Code == regclient.CodeSubjectNotFound {
			fmt.Fprintf(tw, "%s\tcompatible (new subject)\t%s\n", e.Subject, e.File)
			continue
		}
		if err != nil {
			return false, fmt.Errorf("%s: listing versions of %s: %w", e.File, e.Subject, err)
		}
		compatible, messages, err := reg.CheckCompatibilityAs(ctx, e.Subject, regclient.Latest, e.Type, e.Schema)
		if err != nil {
			return false, fmt.Errorf("%s: checking against %s: %w", e.File, e.Subject, err)
		}
		if compatible {
			fmt.Fprintf(tw, "%s\tcompatible\t%s\n", e.Subject, e.File)
			continue
		}
		ok = false
		fmt.Fprintf(tw, "%s\tINCOMPATIBLE\t%s\n", e.Subject, e.File)
		for _, m := range messages {
			fmt.Fprintf(tw, "    %s\n", m)
		}
	}
	return ok, nil
}

// checkStates checks the state schema of every stateful pipeline of cfg
// against the ones registered under its state subject, printing a line per
// subject like checkSchemas. ok is false when any cannot read them.
func checkStates(ctx context.Context, reg *regclient.Client, cfg *pipeline.Config, out io.Writer) (ok bool, err error) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	ok = true
	for _, p := range cfg.Pipelines {
		if !p.Stateful() {
			continue
		}
		problems, err := pipeline.CheckPipelineState(ctx, p, reg)
		if err != nil {
			return false, fmt.Errorf("%s: %w", p.State.SchemaFile, err)
		}
		subject := pipeline.StateSubject(p.Group)
		if len(problems) == 0 {
			fmt.Fprintf(tw, "%s\tcompatible\t%s (state of pipeline %s)\n", subject, p.State.SchemaFile, p.Name)
			continue
		}
		ok = false
		fmt.Fprintf(tw, "%s\tINCOMPATIBLE\t%s (state of pipeline %s)\n", subject, p.State.SchemaFile, p.Name)
		for _, m := range problems {
			fmt.Fprintf(tw, "    %s\n", m)
		}
	}
	return ok, nil
}
