package cli

import (
	"errors"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/conf"
	"github.com/sluicehq/sluice/pipeline"
)

// loadConfig loads a pipelines file; an invalid one is a usage error (exit 2)
// whose message lists every problem as file:line:col.
func (a *app) loadConfig(path string, opts ...pipeline.LoadOption) (*pipeline.Config, error) {
	cfg, err := pipeline.Load(path, append([]pipeline.LoadOption{pipeline.WithGetenv(a.getenv)}, opts...)...)
	if err != nil {
		var ce conf.Errors
		var one *conf.Error
		if errors.As(err, &ce) || errors.As(err, &one) {
			return nil, usageError{err}
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, usagef("%v", err)
		}
		return nil, err
	}
	return cfg, nil
}

// logger writes human-readable logs to stderr at level.
func (a *app) logger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level: %q is not debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: l})), nil
}

// addLogLevelFlag registers --log-level, which logger checks.
func addLogLevelFlag(cmd *cobra.Command, level *string, def string) {
	cmd.Flags().StringVar(level, "log-level", def, "debug, info, warn or error")
	registerCompletions(cmd, map[string]cobra.CompletionFunc{"log-level": oneOf("debug", "info", "warn", "error")})
}

func addFileFlag(cmd *cobra.Command, file *string) {
	cmd.Flags().StringVarP(file, "file", "f", "pipelines.yaml", "pipelines file")
}
