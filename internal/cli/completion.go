package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// Shell completion comes from cobra's own "completion" command (bash, zsh,
// fish, powershell); the functions here give it the values of the flags.

// registerCompletions makes the shell complete each named flag of cmd with
// its completion function.
func registerCompletions(cmd *cobra.Command, fns map[string]cobra.CompletionFunc) {
	for flag, fn := range fns {
		if err := cmd.RegisterFlagCompletionFunc(flag, fn); err != nil {
			// Only a misspelt flag name gets here, which TestCompletion catches.
			panic(fmt.Sprintf("completing --%s of %s: %v", flag, cmd.Name(), err))
		}
	}
}

// oneOf completes a flag with a fixed list of values, never file names.
func oneOf(values ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
}

// completePipelines completes a pipeline name with those of the pipelines
// file *file (the command's --file, read when the shell asks).
func (a *app) completePipelines(file *string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		cfg, err := a.loadConfig(*file)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError | cobra.ShellCompDirectiveNoFileComp
		}
		names := make([]cobra.Completion, 0, len(cfg.Pipelines))
		for _, p := range cfg.Pipelines {
			names = append(names, p.Name)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}
