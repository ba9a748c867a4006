package cli

import (
	"time"

	"github.com/spf13/cobra"
)

// topicFlags are --topic, which every command that reads or writes one topic
// requires, and --max and --timeout of the commands that read until a limit.
// validate checks them with the same messages everywhere.
type topicFlags struct {
	topic   string
	max     int
	timeout time.Duration
}

// addTopicFlag registers --topic; help says what the topic is.
func addTopicFlag(cmd *cobra.Command, f *topicFlags, help string) {
	cmd.Flags().StringVar(&f.topic, "topic", "", help+" (required)")
}

// addLimitFlags registers --max and --timeout; items names what --max counts.
func addLimitFlags(cmd *cobra.Command, f *topicFlags, items string) {
	cmd.Flags().IntVar(&f.max, "max", 0, "stop after this many "+items+" (0 = no limit)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 0, "stop when no record arrives for this long (0 = never)")
}

// validate requires --topic and rejects a negative --max or --timeout.
func (f *topicFlags) validate() error {
	if f.topic == "" {
		return usagef("--topic is required")
	}
	if f.max < 0 {
		return usagef("--max must be >= 0, got %d", f.max)
	}
	if f.timeout < 0 {
		return usagef("--timeout must be >= 0, got %s", f.timeout)
	}
	return nil
}
