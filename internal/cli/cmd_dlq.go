package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/dlq"
	"github.com/sluicehq/sluice/internal/render"
)

// Output formats of dlq inspect.
const (
	formatAuto  = "auto"
	formatJSON  = "json"
	formatTable = "table"
)

func (a *app) dlqCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "Inspect and replay dead letters",
	}
	cmd.AddCommand(a.dlqInspectCmd(), a.dlqReplayCmd())
	requireSubcommand(cmd)
	return cmd
}

const filterHelp = `--filter is an expr-lang boolean expression over: ` + dlq.FilterNames + `.
topic, partition, offset and timestamp are the source message's (sluice.source.* headers).
Example: --filter 'stage == "validate" && attempts > 1'. A bad expression exits 2. An expression
that fails on one dead letter at run time (value.amount when value is a string) counts as not
matching for inspect (with a warning), and stops replay with an error: guard it, for example
type(value) == "map" && value.amount < 0.`

type dlqInspectOptions struct {
	conn connFlags
	topicFlags
	filter        string
	fromBeginning bool
	format        string
}

func (a *app) dlqInspectCmd() *cobra.Command {
	var o dlqInspectOptions
	cmd := &cobra.Command{
		Use:   "inspect --topic T [--max N] [--filter EXPR] [--timeout D] [--format json|table]",
		Short: "Print dead letters with their headers and decoded values",
		Long: `Inspect prints the dead letters of a dead-letter topic with their sluice headers
(pipeline, stage, kind, message, source topic/partition/offset/timestamp, attempts, schema id,
replay count) and the value decoded like "sluice consume" does: Avro by the frame's writer
schema from the registry, JSON as JSON, else a string or base64.

Output is one JSON object per line, or an aligned table when stdout is a terminal or with
--format table. In JSON, "topic", "partition", "offset" and "timestamp" are the source's and
"dlq" says where the dead letter itself is.

By default it reads from the earliest offset and stops when it has caught up with the end
offsets it saw at start; --from-beginning=false instead prints dead letters written from now on.
It also stops after --max dead letters, when --timeout passes without a record, or on SIGINT.

` + filterHelp,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runDLQInspect(cmd.Context(), &o)
		},
	}
	addTopicFlag(cmd, &o.topicFlags, "dead-letter topic")
	addLimitFlags(cmd, &o.topicFlags, "dead letters")
	f := cmd.Flags()
	f.StringVar(&o.filter, "filter", "", "print only the dead letters this expression matches")
	f.BoolVar(&o.fromBeginning, "from-beginning", true,
		"read from the earliest offset up to the end at start; false: follow new dead letters")
	f.StringVar(&o.format, "format", formatAuto, "output: auto (table on a terminal, else json), json or table")
	a.addConnFlags(cmd, &o.conn)
	registerCompletions(cmd, map[string]cobra.CompletionFunc{"format": oneOf(formatAuto, formatJSON, formatTable)})
	return cmd
}

func (a *app) runDLQInspect(ctx context.Context, o *dlqInspectOptions) error {
	a.resolveConn(&o.conn)
	if err := o.validate(); err != nil {
		return err
	}
	table := false
	switch o.format {
	case formatAuto:
		table = isTerminal(a.stdout)
	case formatTable:
		table = true
	case formatJSON:
	default:
		return usagef("--format must be auto, json or table, got %q", o.format)
	}
	opts, err := a.dlqOptions(&o.conn, o.filter)
	if err != nil {
		return err
	}
	opts = append(opts, dlq.WithMax(o.max), dlq.WithIdleTimeout(o.timeout))
	if !o.fromBeginning {
		opts = append(opts, dlq.Follow())
	}

	w := bufio.NewWriter(a.stdout)
	var write func(*dlq.Entry) error
	flush := w.Flush
	if table {
		tw := dlq.NewTableWriter(w)
		write = tw.Write
		flush = func() error { return errors.Join(tw.Flush(), w.Flush()) }
	} else {
		jw := dlq.NewJSONWriter(w)
		write = func(e *dlq.Entry) error {
			if err := jw.Write(e); err != nil {
				return err
			}
			return w.Flush() // a line at a time, for pipes
		}
	}
	st, err := dlq.Inspect(ctx, o.topic, write, opts...)
	if ferr := flush(); ferr != nil && err == nil {
		err = fmt.Errorf("writing dead letters: %w", ferr)
	}
	if st.FilterErrors > 0 {
		fmt.Fprintf(a.stderr, "sluice: warning: --filter failed on %d of %d dead letters, which count as not matching; first: %v\n",
			st.FilterErrors, st.Read, st.FirstFilterError)
	}
	return err
}

type dlqReplayOptions struct {
	conn connFlags
	topicFlags
	to         string
	filter     string
	rate       float64
	dryRun     bool
	group      string
	maxReplays int
}

func (a *app) dlqReplayCmd() *cobra.Command {
	var o dlqReplayOptions
	cmd := &cobra.Command{
		Use:   "replay --topic T [--to TOPIC] [--filter EXPR] [--max-replays N] [--rate N] [--dry-run] [--group G]",
		Short: "Republish dead letters to their source topic, exactly once",
		Long: `Replay republishes each dead letter's original key and value bytes unchanged to --to, or
by default to the topic in its sluice.source.topic header (into the source partition when the
target has it). It keeps the original headers except the dead-letter ones (sluice.pipeline,
sluice.error.*, sluice.source.*, sluice.attempts, sluice.schema.id), sets sluice.replay.count
to one more than before, and sets sluice.replay.pipeline to the pipeline that dead-lettered it
(its sluice.pipeline header): the other sluice pipelines reading the target topic skip the
record (they count it as filtered, reason replay_for_other), with or without --to.

A dead letter of kind oversize without a value (the pipeline left the value out because the
dead letter would not fit its topic) is replayed from its source record, read at its
sluice.source.* coordinates; if retention deleted that record, replay stops with an error
(skip such letters with --filter 'kind != "oversize"').

Letters whose sluice.replay.count reached --max-replays (default 3; 0 = no limit) are refused
and counted: a message that fails every time does not go round for ever.

It reads from the offsets committed by its group up to the end offsets it saw at start, so it
never chases records written after it began. Published records and the group's offsets commit
together in Kafka transactions (transactional id = the group): a replay interrupted by SIGINT
or killed resumes where it stopped when run again, without publishing anything twice to readers
that read committed (isolation.level=read_committed; sluice pipelines do).

The group is "sluice-dlq-replay-<topic>" without --filter, and one of its own per filter text
with one ("sluice-dlq-replay-<topic>-f<hash of the filter>"), or --group. Letters that --filter
does not match, and refused ones, are committed as done in that group only: running the same
command again resumes, and a run with another filter (or none) reads the whole topic again and
still finds them. A letter that two filters both match is replayed by each: replay with
disjoint filters, or share one --group.

When several pipelines read one source topic and share a dead-letter topic, a message they all
rejected is there once per pipeline; each copy is replayed for its own pipeline only.

--dry-run prints what would be published (JSON lines) and commits nothing. A progress bar goes
to stderr, then a summary.

` + filterHelp,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runDLQReplay(cmd.Context(), &o)
		},
	}
	addTopicFlag(cmd, &o.topicFlags, "dead-letter topic")
	f := cmd.Flags()
	f.StringVar(&o.to, "to", "", "publish to this topic instead of each dead letter's source topic")
	f.StringVar(&o.filter, "filter", "", "replay only the dead letters this expression matches; progress is kept per filter")
	f.IntVar(&o.maxReplays, "max-replays", dlq.DefaultMaxReplays, "refuse dead letters replayed this many times already (sluice.replay.count); 0 = no limit")
	f.Float64Var(&o.rate, "rate", 0, "publish at most this many records per second (0 = unlimited)")
	f.BoolVar(&o.dryRun, "dry-run", false, "print what would be published; publish and commit nothing")
	f.StringVar(&o.group, "group", "", `consumer group and transactional id that record progress (default "sluice-dlq-replay-<topic>", or one per --filter)`)
	a.addConnFlags(cmd, &o.conn)
	return cmd
}

func (a *app) runDLQReplay(ctx context.Context, o *dlqReplayOptions) error {
	a.resolveConn(&o.conn)
	if err := o.validate(); err != nil {
		return err
	}
	if o.rate < 0 {
		return usagef("--rate must be >= 0, got %v", o.rate)
	}
	if o.maxReplays < 0 {
		return usagef("--max-replays must be >= 0, got %d", o.maxReplays)
	}
	opts, err := a.dlqOptions(&o.conn, o.filter)
	if err != nil {
		return err
	}
	if o.to != "" {
		opts = append(opts, dlq.WithTarget(o.to))
	}
	if o.group != "" {
		opts = append(opts, dlq.WithGroup(o.group))
	}
	opts = append(opts, dlq.WithRate(o.rate), dlq.WithMaxReplays(o.maxReplays))

	var bar *dlq.ProgressBar
	w := bufio.NewWriter(a.stdout)
	if o.dryRun {
		enc := render.NewEncoder(w)
		opts = append(opts, dlq.DryRun(func(p *dlq.Planned) error {
			if err := enc.Encode(plannedJSON(p)); err != nil {
				return fmt.Errorf("writing planned record: %w", err)
			}
			return w.Flush()
		}))
	} else {
		bar = dlq.NewProgressBar(a.stderr, isTerminal(a.stderr), nil)
		opts = append(opts, dlq.WithProgress(bar.Update))
	}
	st, err := dlq.Replay(ctx, o.topic, opts...)
	if bar != nil {
		bar.Finish()
	}
	if ferr := w.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("writing planned records: %w", ferr)
	}
	verb := "replayed"
	if o.dryRun {
		verb = "dry run: would replay"
	}
	if err == nil || errors.Is(err, dlq.ErrInterrupted) || st.Replayed+st.Skipped > 0 {
		fmt.Fprintf(a.stderr, "%s %d, skipped %d, to topics %s\n", verb, st.Replayed, st.Skipped, topicCounts(st.Topics))
		if st.Refused > 0 {
			fmt.Fprintf(a.stderr, "refused %d dead letters replayed %d times already (%s); they count as done in this replay's group: to replay them anyway, run with a higher --max-replays and another --group\n",
				st.Refused, o.maxReplays, deadletter.HeaderReplayCount)
		}
	}
	if errors.Is(err, dlq.ErrInterrupted) {
		return fmt.Errorf("%w; run the same command again to resume", err)
	}
	return err
}

// dlqOptions returns the options both dlq commands share: brokers, the
// decoder of "sluice consume" and the compiled filter.
func (a *app) dlqOptions(conn *connFlags, filter string) ([]dlq.Option, error) {
	k, err := conn.kafka()
	if err != nil {
		return nil, err
	}
	kopts, err := k.Opts()
	if err != nil {
		return nil, err
	}
	opts := []dlq.Option{dlq.WithClientOpts(kopts...)}
	if filter != "" {
		f, err := dlq.CompileFilter(filter)
		if err != nil {
			return nil, usagef("--filter: %v", err)
		}
		opts = append(opts, dlq.WithFilter(f))
	}
	co := consumeOptions{conn: *conn, codec: codecAuto}
	dec, err := co.newValueDecoder()
	if err != nil {
		return nil, err
	}
	return append(opts, dlq.WithDecoder(dec.value)), nil
}

// plannedRecord is the JSON line a dry run prints per record.
type plannedRecord struct {
	DLQ         render.Position `json:"dlq"`
	Topic       string          `json:"topic"`
	Partition   int32           `json:"partition"`
	Key         *string         `json:"key"`
	KeyBase64   string          `json:"key_base64,omitempty"`
	ValueSize   int             `json:"value_size"`
	ReplayCount int             `json:"replay_count"`
}

func plannedJSON(p *dlq.Planned) plannedRecord {
	out := plannedRecord{
		DLQ:         render.At(p.Letter.Record),
		Topic:       p.Record.Topic,
		Partition:   p.Record.Partition,
		ValueSize:   len(p.Record.Value),
		ReplayCount: p.Letter.ReplayCount + 1,
	}
	out.Key, out.KeyBase64 = render.Key(p.Letter.Record.Key)
	return out
}

// topicCounts renders per-topic counts as {a: 1, b: 2}.
func topicCounts(m map[string]int) string {
	names := make([]string, 0, len(m))
	for t := range m {
		names = append(names, t)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, t := range names {
		parts[i] = fmt.Sprintf("%s: %d", t, m[t])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
