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
		Long: `Test runs the test files of a pipelines file: the FILEs given, or else every
*_test.yaml next to it. Each test sends input records to one pipeline and
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
	if len(files) == 0 {
		if files, err = pipetest.Find(file); err != nil {
			return err
		}
		if len(files) == 0 {
			fmt.Fprintf(a.stdout, "%s: no test files (*_test.yaml next to it)\n", file)
			return nil
		}
	}
	// Every file is read before any test runs: a bad one stops the run
	// with all its problems.
	loaded := make([]*pipetest.File, 0, len(files))
	var bad []error
	for _, path := range files {
		f, err := pipetest.Load(path, cfg, schemas, a.getenv)
		if err != nil {
			var ce config.Errors
			var one *config.Error
			if !errors.As(err, &ce) && !errors.As(err, &one) {
				return err
			}
			bad = append(bad, err)
			continue
		}
		loaded = append(loaded, f)
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
