package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/redact"
	"github.com/sluicehq/sluice/pipeline"
)

func (a *app) validateCmd() *cobra.Command {
	var (
		file, registry string
		regAuth        registryAuthFlags
	)
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a pipelines file offline (and its schemas against a registry)",
		Long: `Validate reads the pipelines file, expands ${VAR}, and checks every key,
type, topic, schema file and expression without connecting to anything. Every
problem is printed as file:line:col: message, and the exit code is 2.

With --registry it also checks that each Avro input's subject exists and that
the pipeline's reader schema can read every registered version of it, asking
with registry.basic_auth, registry.bearer_token and registry.tls, or the
--registry-* flags and $SLUICE_REGISTRY_* variables, which override them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.validate(cmd.Context(), file, registry, &regAuth)
		},
	}
	addFileFlag(cmd, &file)
	cmd.Flags().StringVar(&registry, "registry", "", "also check subjects and reader schemas against this registry")
	addRegistryAuthFlags(cmd.Flags(), &regAuth)
	return cmd
}

func (a *app) validate(ctx context.Context, file, registry string, regAuth *registryAuthFlags) error {
	cfg, err := a.loadConfig(file)
	if err != nil {
		return err
	}
	names := make([]string, len(cfg.Pipelines))
	for i, p := range cfg.Pipelines {
		names[i] = p.Name
	}
	if registry != "" {
		regAuth.resolve(a.getenv)
		if err := regAuth.apply(&cfg.Registry); err != nil {
			return err
		}
		if _, err := cfg.Registry.Client(registry); err != nil {
			return usagef("--registry: %v", err) // a bad URL or TLS settings
		}
		problems, err := pipeline.CheckRegistry(ctx, cfg, registry)
		if err != nil {
			return err
		}
		if len(problems) > 0 {
			return usagef("%s: the registry at %s disagrees:\n  %s", file, redact.URL(registry), strings.Join(problems, "\n  "))
		}
	}
	fmt.Fprintf(a.stdout, "%s: valid (%d pipelines: %s)\n", file, len(names), strings.Join(names, ", "))
	return nil
}
