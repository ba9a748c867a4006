package cli

import (
	"errors"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/processors/config"
)

// loadConfig loads a pipelines file; an invalid one is a usage error (exit 2)
// whose message lists every problem as file:line:col.
func (a *app) loadConfig(path string, opts ...pipeline.LoadOption) (*pipeline.Config, error) {
	cfg, err := pipeline.Load(path, append([]pipeline.LoadOption{pipeline.WithGetenv(a.getenv), pipeline.WithSteps(a.steps)}, opts...)...)
	if err != nil {
		var ce config.Errors
		var one *config.Error
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

// logger writes logs to stderr at level, in the format of --log-format.
func (a *app) logger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level: %q is not debug, info, warn or error", level)
	}
	return a.loggerAt(l)
}

// loggerAt writes logs to stderr at level, as JSON or text: --log-format,
// else $SLUICE_LOG_FORMAT, else text on a terminal and JSON otherwise (a
// container's or a service manager's log collector).
func (a *app) loggerAt(level slog.Leveler) (*slog.Logger, error) {
	format := a.flagOrEnv(a.logFormat, envLogFormat)
	if format == "" {
		format = logFormatJSON
		if isTerminal(a.stderr) {
			format = logFormatText
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case logFormatJSON:
		return slog.New(slog.NewJSONHandler(a.stderr, opts)), nil
	case logFormatText:
		return slog.New(slog.NewTextHandler(a.stderr, opts)), nil
	}
	return nil, usagef("--log-format: %q is not json or text", format)
}

// Values of --log-format.
const (
	logFormatJSON = "json"
	logFormatText = "text"
	envLogFormat  = "SLUICE_LOG_FORMAT"
)

// addLogFormatFlag registers the global --log-format, which loggerAt reads.
func addLogFormatFlag(root *cobra.Command, format *string) {
	root.PersistentFlags().StringVar(format, "log-format", "", "log format, json or text (default $"+envLogFormat+", else text on a terminal and json otherwise)")
}

// addLogLevelFlag registers --log-level, which logger checks.
func addLogLevelFlag(cmd *cobra.Command, level *string, def string) {
	cmd.Flags().StringVar(level, "log-level", def, "debug, info, warn or error")
	registerCompletions(cmd, map[string]cobra.CompletionFunc{"log-level": oneOf("debug", "info", "warn", "error")})
}

func addFileFlag(cmd *cobra.Command, file *string) {
	cmd.Flags().StringVarP(file, "file", "f", "pipelines.yaml", "pipelines file")
}
