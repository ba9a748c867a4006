package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/pipeline"
)

func (a *app) graphCmd() *cobra.Command {
	var file, format string
	cmd := &cobra.Command{
		Use:   "graph",
		Short: "Print the topics, groups, tables and dead-letter topics of the pipelines as a diagram",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != pipeline.FormatMermaid && format != pipeline.FormatDot {
				return usagef("--format: %q is not mermaid or dot", format)
			}
			cfg, err := a.loadConfig(file)
			if err != nil {
				return err
			}
			out, err := cfg.Diagram(format)
			if err != nil {
				return err
			}
			fmt.Fprint(a.stdout, out)
			return nil
		},
	}
	addFileFlag(cmd, &file)
	cmd.Flags().StringVar(&format, "format", pipeline.FormatMermaid, "mermaid or dot")
	registerCompletions(cmd, map[string]cobra.CompletionFunc{"format": oneOf(pipeline.FormatMermaid, pipeline.FormatDot)})
	return cmd
}
