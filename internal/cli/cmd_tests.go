package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/pipetest"
	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/processors/config"
)

// testCmd is `sluice test` (the file is not named cmd_test.go, which Go
// would take for a test).
func (a *app) testCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "test [FILE...]",
		Short: "Run pipeline tests offline (no broker, no registry)",
		Long: `Test runs the tests of a pipelines file: those of the FILEs given, or else
those in the tests: list of each pipeline and in every *_test.yaml next to it. Each test sends input records to one pipeline and
checks the records it writes to its outputs, its dead letters and the final
state of keys. The pipelines run in process, through the production steps,
codecs and handler, on in-memory topics, tables and schema registry.

A failing expectation is printed with its file:line:col and a diff (- want,
+ got), and the exit code is 1. A test file that cannot be read (an unknown
key, a value that does not fit the writer schema) is printed as
file:line:col: message, and the exit code is 2.`,
		RunE: func(_ *cobra.Command, files []string) error {
			return a.test(file, files)
		},
	}
	addFileFlag(cmd, &file)
	return cmd
}

func (a *app) test(file string, files []string) error {
	schemas := codecs.NewSchemas()
	cfg, err := a.loadConfig(file, pipeline.WithSchemas(schemas))
	if err != nil {
		return err
	}
	// Every file is read before any test runs: a bad one stops the run
	// with all its problems.
	var loaded []*pipetest.File
	var bad []error
	keep := func(f *pipetest.File, err error) error {
		var ce config.Errors
		var one *config.Error
		switch {
		case errors.As(err, &ce) || errors.As(err, &one):
			bad = append(bad, err)
		case err != nil:
			return err
		case len(f.Cases) > 0:
			loaded = append(loaded, f)
		}
		return nil
	}
	if len(files) == 0 {
		// The pipelines' own tests: lists, then the files next to it.
		if err := keep(pipetest.LoadInline(cfg, schemas, a.getenv)); err != nil {
			return err
		}
		if files, err = pipetest.Find(file); err != nil {
			return err
		}
	}
	for _, path := range files {
		if err := keep(pipetest.Load(path, cfg, schemas, a.getenv)); err != nil {
			return err
		}
	}
	if len(loaded) == 0 && len(bad) == 0 {
		fmt.Fprintf(a.stdout, "%s: no tests (no tests: list in it, no *_test.yaml next to it)\n", file)
		return nil
	}
	if len(bad) > 0 {
		return usageError{errors.Join(bad...)}
	}
	runner := &pipetest.Runner{Config: cfg, Schemas: schemas}
	failed, total := 0, 0
	for _, f := range loaded {
		for _, res := range runner.RunFile(f, a.stdout) {
			total++
			if len(res.Failures) > 0 {
				failed++
			}
		}
	}
	if failed > 0 {
		fmt.Fprintln(a.stdout, "FAIL")
		return fmt.Errorf("%d of %d tests failed", failed, total)
	}
	fmt.Fprintln(a.stdout, "PASS")
	return nil
}
