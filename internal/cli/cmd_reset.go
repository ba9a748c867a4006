package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/processors/config"
)

type resetFlags struct {
	file, pipeline, to, brokers string
	clearState, dryRun          bool
}

func (a *app) resetCmd() *cobra.Command {
	f := &resetFlags{}
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Move a pipeline's committed offsets to reprocess its input (optionally from a cleared state)",
		Long: `reset moves the committed offsets of a pipeline's consumer group on every
partition of its input: to the earliest or latest offset, to the first record
at or after an RFC 3339 time, or to one offset (clamped to what each partition
holds), like kafka-consumer-groups --reset-offsets. It prints each partition's
current and new offset; --dry-run stops there and changes nothing.

It refuses while the group has live members (stop every instance first) and
bumps the group's reset generation, so that the reprocessed messages are
applied again on purpose instead of being taken for redeliveries.

For a stateful pipeline, --clear-state deletes the table's changelog topic
(<group>-table; the pipeline recreates it empty) so that reprocessing rebuilds
the state from nothing. Delete the local state folders (--state-dir/<group>)
of every instance before starting them again. Without --clear-state the state
is kept and the reprocessed messages update it again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.reset(cmd.Context(), f)
		},
	}
	addFileFlag(cmd, &f.file)
	cmd.Flags().StringVar(&f.pipeline, "pipeline", "", "the pipeline to reset (required)")
	cmd.Flags().StringVar(&f.to, "to", "", "earliest, latest, an RFC 3339 time or an offset (required)")
	cmd.Flags().BoolVar(&f.clearState, "clear-state", false, "also delete the pipeline's state (its table's changelog topic)")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "print the current and new offsets and change nothing")
	cmd.Flags().StringVar(&f.brokers, "brokers", "", "Kafka brokers, comma-separated (default $SLUICE_BROKERS, then kafka.brokers)")
	registerCompletions(cmd, map[string]cobra.CompletionFunc{"pipeline": a.completePipelines(&f.file)})
	return cmd
}

func (a *app) reset(ctx context.Context, f *resetFlags) error {
	if f.pipeline == "" {
		return usagef("--pipeline is required")
	}
	to, err := pipeline.ParseResetTo(f.to)
	if err != nil {
		return usagef("--to: %v", err)
	}
	cfg, err := a.loadConfig(f.file)
	if err != nil {
		return err
	}
	p := cfg.Pipeline(f.pipeline)
	if p == nil {
		return usagef("--pipeline: %s has no pipeline %q", f.file, f.pipeline)
	}
	if f.clearState && !p.Stateful() {
		return usagef("--clear-state: pipeline %s is stateless, it has no state to clear", p.Name)
	}
	brokers := config.SplitList(a.flagOrEnv(f.brokers, envBrokers))
	if len(brokers) == 0 {
		brokers = cfg.Kafka.Brokers
	}
	if len(brokers) == 0 {
		return usagef("no Kafka brokers: set kafka.brokers, $SLUICE_BROKERS or --brokers")
	}
	if err := pipeline.CheckBrokers(brokers); err != nil {
		return usagef("--brokers: %v", err)
	}
	adm, err := cfg.Kafka.Conn(brokers, cfg.Kafka.ClientID+"-reset").Dial(ctx)
	if err != nil {
		return err
	}
	defer adm.Close()
	plan, err := pipeline.PlanReset(ctx, adm, p, to, f.clearState)
	if err != nil {
		return err
	}
	printResetPlan(a.stdout, plan)
	if f.dryRun {
		fmt.Fprintln(a.stdout, "dry run: nothing changed")
		return nil
	}
	if err := plan.Apply(ctx, adm); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "reset group %s to %s (reset generation %d)\n", plan.Group, plan.To, plan.Generation)
	if plan.ClearState {
		fmt.Fprintf(a.stdout, "state cleared: topic %s deleted; the pipeline creates it empty when it starts.\n"+
			"Delete the local state folder <--state-dir>/%s of every instance that runs with --state-dir before starting it.\n", plan.Changelog, plan.Group)
	}
	return nil
}

// printResetPlan prints a plan's offsets and what it does to the state.
func printResetPlan(out io.Writer, plan *pipeline.ResetPlan) {
	fmt.Fprintf(out, "pipeline %s: group %s, topic %s, to %s\n", plan.Pipeline, plan.Group, plan.Topic, plan.To)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTITION\tCURRENT\tNEW\t")
	for _, rp := range plan.Partitions {
		current := "-"
		if rp.Current >= 0 {
			current = fmt.Sprint(rp.Current)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\n", rp.Partition, current, rp.New, rp.Note)
	}
	tw.Flush()
	switch {
	case plan.ClearState:
		fmt.Fprintf(out, "state: cleared (topic %s deleted), then rebuilt from the reprocessed messages\n", plan.Changelog)
	case plan.Stateful:
		fmt.Fprintf(out, "warning: state is kept: each reprocessed message is applied to it again (counts and sums grow twice for the messages read twice); "+
			"use --clear-state to rebuild the state from nothing\n")
	}
}
