package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/render"
	"github.com/sluicehq/sluice/registry/regclient"
)

// commitTimeout bounds the final offset commit of a group consumer.
const commitTimeout = 10 * time.Second

type consumeOptions struct {
	conn connFlags
	topicFlags
	fromBeginning bool
	offset        string
	fromTime      string
	untilEnd      bool
	schema        string
	message       string
	codec         string
	group         string

	start startSpec // from --offset, --from-beginning or --from-time
}

func (a *app) consumeCmd() *cobra.Command {
	var o consumeOptions
	cmd := &cobra.Command{
		Use:   "consume --topic T [--offset beginning|end|N|-N | --from-time T] [--until-end] [--max N] [--timeout D]",
		Short: "Print a topic's records as JSON lines",
		Long: `Consume prints one JSON object per record on stdout:
{"topic","partition","offset","timestamp" (Unix ms),"key","headers":{k:v},"value":...}.

Values are decoded by --codec: auto (default) decodes Confluent-framed values by their
writer schema from the registry (Avro, JSON Schema, validated, or Protobuf, the message the
frame names), embeds JSON as JSON and prints anything else as a string, or as base64 under
"value_base64" when it is not UTF-8. --schema FILE decodes to that schema instead: Avro
(.avsc) as the reader schema, JSON Schema (.json) or Protobuf (.proto; --message NAME when
the file holds several) as the reader message. A value the chosen codec cannot decode is printed raw with an "error" field.

Without --group it reads every partition directly, starting in each at --offset, like
kcat's -o: end (the default: only new records), beginning (--from-beginning), N (the
absolute offset N, held within the partition's offsets) or -N (N records before the end).
--from-time starts at the first record at or after an RFC 3339 time or a duration ago
(10m). With --group these are where partitions without a committed offset start.

--until-end stops once every partition has reached the end offset it had when consume
started, like kcat -e; records written after that are not printed. Otherwise consume stops
after --max records, or when --timeout passes without a new record, or on SIGINT.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runConsume(cmd.Context(), &o)
		},
	}
	addTopicFlag(cmd, &o.topicFlags, "topic to consume")
	addLimitFlags(cmd, &o.topicFlags, "records")
	f := cmd.Flags()
	f.BoolVar(&o.fromBeginning, "from-beginning", false,
		"start at the earliest offset, as --offset beginning (with --group: when the group has no committed offset)")
	f.StringVar(&o.offset, "offset", "", "start at: beginning, end (default), N (absolute offset) or -N (N before the end) in every partition")
	f.StringVar(&o.fromTime, "from-time", "", "start at the first record at or after this RFC 3339 time, or this long ago (10m, 2h)")
	f.BoolVar(&o.untilEnd, "until-end", false, "stop at the end offsets seen at start (like kcat -e); not with --group")
	f.StringVar(&o.schema, "schema", "", "reader schema file to decode values to: Avro (.avsc), JSON Schema (.json) or Protobuf (.proto)")
	f.StringVar(&o.message, "message", "", "Protobuf message type of --schema (default: the file's first message)")
	f.StringVar(&o.codec, "codec", codecAuto, "value codec: auto, avro, json_schema, protobuf, json, string or bytes")
	f.StringVar(&o.group, "group", "", "consume in this consumer group and commit what was printed")
	a.addConnFlags(cmd, &o.conn)
	registerCompletions(cmd, map[string]cobra.CompletionFunc{
		"codec":  oneOf(codecAuto, codecAvro, codecJSONSchema, codecProtobuf, codecJSON, codecString, codecBytes),
		"offset": oneOf("beginning", "end"),
	})
	return cmd
}

func (o *consumeOptions) validate() error {
	if err := o.topicFlags.validate(); err != nil {
		return err
	}
	if err := o.parseStart(time.Now()); err != nil {
		return err
	}
	if o.untilEnd && o.group != "" {
		return usagef("--until-end reads partitions directly; it cannot be combined with --group")
	}
	switch o.codec {
	case codecAuto, codecAvro, codecJSONSchema, codecProtobuf:
	case codecJSON, codecString, codecBytes:
		if o.schema != "" {
			return usagef("--schema decodes with a registered schema; it cannot be combined with --codec %s", o.codec)
		}
	default:
		return usagef("--codec must be auto, avro, json_schema, protobuf, json, string or bytes, got %q", o.codec)
	}
	if o.schema != "" {
		codec, err := schemaCodec(o.schema, "")
		if err != nil {
			return err
		}
		if o.codec != codecAuto && o.codec != codec {
			return usagef("--schema %s decodes %s; it cannot be combined with --codec %s", o.schema, codec, o.codec)
		}
		if o.message != "" && codec != codecProtobuf {
			return usagef("--message names a Protobuf message; %s is not a .proto schema", o.schema)
		}
	} else if o.message != "" {
		return usagef("--message goes with --schema FILE.proto")
	}
	return nil
}

// parseStart sets o.start from the one of --offset, --from-beginning and
// --from-time that was given.
func (o *consumeOptions) parseStart(now time.Time) error {
	given := 0
	for _, set := range []bool{o.offset != "", o.fromBeginning, o.fromTime != ""} {
		if set {
			given++
		}
	}
	if given > 1 {
		return usagef("--offset, --from-beginning and --from-time are mutually exclusive")
	}
	var err error
	switch {
	case o.fromBeginning:
		o.start = startSpec{kind: startBeginning}
	case o.offset != "":
		o.start, err = parseOffset(o.offset)
	case o.fromTime != "":
		o.start, err = parseFromTime(o.fromTime, now)
	default:
		o.start = startSpec{kind: startEnd}
	}
	return err
}

func (a *app) runConsume(ctx context.Context, o *consumeOptions) (err error) {
	a.resolveConn(&o.conn)
	if err := o.validate(); err != nil {
		return err
	}
	dec, err := o.newValueDecoder()
	if err != nil {
		return err
	}
	var (
		ends *endTracker
		opts []kgo.Opt
	)
	switch {
	case o.untilEnd:
		spans, err := o.partitionSpans(ctx)
		if err != nil {
			return err
		}
		ends = newEndTracker(spans)
		if ends.done() {
			return nil // nothing between the start and the end
		}
		// Exact offsets; should retention delete one before it is read,
		// the partition restarts at its new start, still before its end.
		// Transaction markers are kept: a partition may end on one.
		opts = append(opts, ends.consumePartitions(o.topic, spans),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.KeepControlRecords())
	case o.group != "":
		opts = append(opts, kgo.ConsumeTopics(o.topic), kgo.ConsumeResetOffset(o.start.resetOffset()),
			kgo.ConsumerGroup(o.group), kgo.AutoCommitMarks())
	default:
		opts = append(opts, kgo.ConsumeTopics(o.topic), kgo.ConsumeResetOffset(o.start.resetOffset()))
	}
	// Never auto-create here: sluice creates its topics with the right
	// partition count, and a consumer started first must not pre-empt that.
	adm, err := o.conn.dialKafka(ctx)
	if err != nil {
		return err
	}
	ok, err := topicExists(ctx, adm, o.topic)
	adm.Close()
	switch {
	case err != nil:
		return err
	case !ok:
		fmt.Fprintf(a.stderr, "sluice: topic %s does not exist yet; waiting for it\n", o.topic)
	}
	cl, err := o.conn.newKafkaClient(opts...)
	if err != nil {
		return err
	}
	defer func() {
		if o.group != "" {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
			defer cancel()
			if cerr := cl.CommitMarkedOffsets(cctx); cerr != nil {
				err = errors.Join(err, fmt.Errorf("committing offsets of group %s: %w", o.group, cerr))
			}
		}
		cl.Close()
	}()

	w := bufio.NewWriter(a.stdout)
	p := &recordPrinter{enc: render.NewEncoder(w), dec: dec}
	for n := 0; o.max == 0 || n < o.max; {
		fetches, stop := a.poll(ctx, cl, o, n)
		for it := fetches.RecordIter(); !it.Done(); {
			r := it.Next()
			if ends != nil && !ends.see(r) {
				continue
			}
			if err := p.print(r); err != nil {
				return err
			}
			if o.group != "" {
				cl.MarkCommitRecords(r)
			}
			n++
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("writing records: %w", err)
		}
		if stop || ends != nil && ends.done() {
			break
		}
	}
	return nil
}

// partitionSpans resolves the start of every partition of the topic and
// lists its end for --until-end, with a client of its own.
func (o *consumeOptions) partitionSpans(ctx context.Context) (map[int32]span, error) {
	adm, err := o.conn.dialKafka(ctx)
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	switch ok, err := topicExists(ctx, adm, o.topic); {
	case err != nil:
		return nil, err
	case !ok:
		return nil, fmt.Errorf("topic %s does not exist: --until-end has no end to read to", o.topic)
	}
	ctx, cancel := context.WithTimeout(ctx, metadataTimeout)
	defer cancel()
	return o.start.partitionSpans(ctx, adm, o.topic)
}

// poll waits for the next records. stop is true when consuming must end:
// ctx is done (SIGINT) or --timeout passed without a record.
func (a *app) poll(ctx context.Context, cl *kgo.Client, o *consumeOptions, n int) (fetches kgo.Fetches, stop bool) {
	pctx, cancel := ctx, context.CancelFunc(func() {})
	if o.timeout > 0 {
		pctx, cancel = context.WithTimeout(ctx, o.timeout)
	}
	defer cancel()
	limit := -1
	if o.max > 0 {
		limit = o.max - n
	}
	fetches = cl.PollRecords(pctx, limit)
	fetches.EachError(func(t string, p int32, err error) {
		switch {
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
			errors.Is(err, kgo.ErrClientClosed):
			stop = true
		default:
			fmt.Fprintf(a.stderr, "sluice: consuming %s[%d]: %v\n", t, p, err)
		}
	})
	// A deadline with records in hand is not "no new record": keep going.
	if stop && ctx.Err() == nil && !fetches.Empty() && fetches.NumRecords() > 0 {
		stop = false
	}
	return fetches, stop
}

// recordPrinter prints records as JSON lines.
type recordPrinter struct {
	enc *json.Encoder
	dec *valueDecoder
}

func (p *recordPrinter) print(r *kgo.Record) error {
	out := render.NewRecord(r, p.dec.value(r.Value))
	if err := p.enc.Encode(&out); err != nil {
		return fmt.Errorf("writing record %s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, err)
	}
	return nil
}

// valueDecoder renders record values according to --codec and --schema.
// It is used by one goroutine.
type valueDecoder struct {
	codec  string
	conn   *connFlags
	schema string // --schema file, "" to decode with each writer schema

	reg     *regclient.Client    // created on the first framed value
	reader  frameDecoder         // with --schema
	writers map[int]frameDecoder // without --schema, one per writer id
	failed  map[int]error        // writer ids that will never decode
}

// frameDecoder decodes a Confluent-framed value and renders it.
type frameDecoder func(frame []byte) (render.Value, error)

// avroFrames renders what an Avro codec decodes, by its reader schema.
func avroFrames(c *codecs.Avro) frameDecoder {
	return func(frame []byte) (render.Value, error) {
		v, err := c.Decode(frame)
		if err != nil {
			return render.Value{}, err
		}
		return render.Avro(c.Reader(), v)
	}
}

// jsonSchemaFrames renders a validated JSON Schema payload as it was written.
func jsonSchemaFrames(c *codecs.JSONSchema) frameDecoder {
	return func(frame []byte) (render.Value, error) {
		if _, err := c.Decode(frame); err != nil {
			return render.Value{}, err
		}
		return render.JSON(frame[5:]), nil
	}
}

// protobufFrames renders a decoded Protobuf message as JSON (codecs.ToJSON).
func protobufFrames(c *codecs.Protobuf) frameDecoder {
	return func(frame []byte) (render.Value, error) {
		v, err := c.Decode(frame)
		if err != nil {
			return render.Value{}, err
		}
		b, err := json.Marshal(codecs.ToJSON(v))
		if err != nil {
			return render.Value{}, fmt.Errorf("rendering: %w", err)
		}
		return render.Value{JSON: b}, nil
	}
}

func (o *consumeOptions) newValueDecoder() (*valueDecoder, error) {
	d := &valueDecoder{codec: o.codec, conn: &o.conn, schema: o.schema,
		writers: map[int]frameDecoder{}, failed: map[int]error{}}
	if o.schema == "" {
		return d, nil
	}
	codec, err := schemaCodec(o.schema, "")
	if err != nil {
		return nil, err
	}
	d.codec = codec
	if codec != codecAvro {
		reg, err := d.registry()
		if err != nil {
			return nil, err
		}
		if codec == codecProtobuf {
			pm, err := codecs.ParseProtoFile(o.schema, o.message)
			if err != nil {
				return nil, usagef("--schema: %v", err)
			}
			c, err := codecs.NewProtobuf(reg, pm)
			if err != nil {
				return nil, err
			}
			d.reader = protobufFrames(c)
			return d, nil
		}
		doc, err := codecs.ParseJSONSchemaFile(o.schema)
		if err != nil {
			return nil, usagef("--schema: %v", err)
		}
		c, err := codecs.NewJSONSchema(reg, doc)
		if err != nil {
			return nil, err
		}
		d.reader = jsonSchemaFrames(c)
		return d, nil
	}
	schemas := codecs.NewSchemas()
	sc, err := schemas.ParseFile(o.schema)
	if err != nil {
		return nil, usagef("--schema: %v", err)
	}
	reg, err := d.registry()
	if err != nil {
		return nil, err
	}
	c, err := codecs.NewAvro(reg, schemas, sc)
	if err != nil {
		return nil, fmt.Errorf("creating avro codec: %w", err)
	}
	d.reader = avroFrames(c)
	return d, nil
}

func (d *valueDecoder) registry() (*regclient.Client, error) {
	if d.reg == nil {
		reg, err := d.conn.newRegistryClient()
		if err != nil {
			return nil, err
		}
		d.reg = reg
	}
	return d.reg, nil
}

// value renders a record value.
func (d *valueDecoder) value(value []byte) render.Value {
	if value == nil {
		return render.Null()
	}
	switch d.codec {
	case codecBytes:
		return render.Base64(value)
	case codecString:
		return render.Text(value)
	case codecJSON:
		return render.JSON(value)
	case codecAvro, codecJSONSchema, codecProtobuf:
		v, err := d.framedValue(value)
		if err != nil {
			return render.Text(value).WithError(err.Error())
		}
		return v
	default: // auto
		if _, ok := codecs.FrameSchemaID(value); ok {
			v, err := d.framedValue(value)
			switch {
			case err == nil:
				return v
			case codecs.IsUnavailable(err): // the registry is unreachable: say so
				return render.Text(value).WithError(err.Error())
			}
		}
		return render.Guess(value)
	}
}

// framedValue decodes a Confluent frame and renders it as JSON.
func (d *valueDecoder) framedValue(frame []byte) (render.Value, error) {
	dec := d.reader
	if dec == nil {
		var err error
		if dec, err = d.writerCodec(frame); err != nil {
			return render.Value{}, err
		}
	}
	return dec(frame)
}

// writerCodec returns a decoder of frames written with the frame's schema
// id into that same schema (for Protobuf, the message the frame names), as
// Confluent's console consumers do.
func (d *valueDecoder) writerCodec(frame []byte) (frameDecoder, error) {
	id, ok := codecs.FrameSchemaID(frame)
	if !ok {
		return nil, &codecs.Error{Op: "decode", Err: errors.New("not a Confluent wire-format frame")}
	}
	if c := d.writers[id]; c != nil {
		return c, nil
	}
	if err := d.failed[id]; err != nil {
		return nil, err
	}
	c, err := d.newWriterCodec(id)
	if err != nil {
		if !codecs.IsUnavailable(err) {
			d.failed[id] = err
		}
		return nil, err
	}
	d.writers[id] = c
	return c, nil
}

func (d *valueDecoder) newWriterCodec(id int) (frameDecoder, error) {
	reg, err := d.registry()
	if err != nil {
		return nil, err
	}
	// The records are printed one at a time; the client's timeout bounds the wait.
	s, err := reg.SchemaByID(context.Background(), id)
	if err != nil {
		return nil, &codecs.Error{Op: "decode", SchemaID: id, Unavailable: !regclient.IsNotFound(err),
			Err: fmt.Errorf("fetching writer schema: %w", err)}
	}
	switch s.Type {
	case regclient.TypeJSON:
		c, err := codecs.NewJSONSchema(reg, nil)
		if err != nil {
			return nil, &codecs.Error{Op: "decode", SchemaID: id, Err: err}
		}
		return jsonSchemaFrames(c), nil
	case regclient.TypeProtobuf:
		c, err := codecs.NewProtobuf(reg, nil)
		if err != nil {
			return nil, &codecs.Error{Op: "decode", SchemaID: id, Err: err}
		}
		return protobufFrames(c), nil
	case regclient.TypeAvro, "":
	default:
		return nil, &codecs.Error{Op: "decode", SchemaID: id, Err: fmt.Errorf("schema type %s is not one sluice decodes", s.Type)}
	}
	schemas := codecs.NewSchemas()
	sc, err := schemas.Parse(s.Text)
	if err != nil {
		return nil, &codecs.Error{Op: "decode", SchemaID: id, Err: err}
	}
	c, err := codecs.NewAvro(reg, schemas, sc)
	if err != nil {
		return nil, &codecs.Error{Op: "decode", SchemaID: id, Err: err}
	}
	return avroFrames(c), nil
}
