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
	schema        string
	codec         string
	group         string
}

func (a *app) consumeCmd() *cobra.Command {
	var o consumeOptions
	cmd := &cobra.Command{
		Use:   "consume --topic T [--from-beginning] [--max N] [--timeout D]",
		Short: "Print a topic's records as JSON lines",
		Long: `Consume prints one JSON object per record on stdout:
{"topic","partition","offset","timestamp" (Unix ms),"key","headers":{k:v},"value":...}.

Values are decoded by --codec: auto (default) decodes Confluent-framed Avro by its writer
schema from the registry, embeds JSON as JSON and prints anything else as a string, or as
base64 under "value_base64" when it is not UTF-8. --schema FILE decodes Avro to that reader
schema instead. A value the chosen codec cannot decode is printed raw with an "error" field.

Without --group it reads every partition directly, from the end unless --from-beginning.
It stops after --max records, or when --timeout passes without a new record, or on SIGINT.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runConsume(cmd.Context(), &o)
		},
	}
	addTopicFlag(cmd, &o.topicFlags, "topic to consume")
	addLimitFlags(cmd, &o.topicFlags, "records")
	f := cmd.Flags()
	f.BoolVar(&o.fromBeginning, "from-beginning", false,
		"start at the earliest offset (with --group: when the group has no committed offset)")
	f.StringVar(&o.schema, "schema", "", "Avro reader schema file (.avsc) to decode values to")
	f.StringVar(&o.codec, "codec", codecAuto, "value codec: auto, avro, json, string or bytes")
	f.StringVar(&o.group, "group", "", "consume in this consumer group and commit what was printed")
	a.addConnFlags(cmd, &o.conn)
	return cmd
}

func (o *consumeOptions) validate() error {
	if err := o.topicFlags.validate(); err != nil {
		return err
	}
	switch o.codec {
	case codecAuto, codecAvro:
	case codecJSON, codecString, codecBytes:
		if o.schema != "" {
			return usagef("--schema decodes Avro; it cannot be combined with --codec %s", o.codec)
		}
	default:
		return usagef("--codec must be auto, avro, json, string or bytes, got %q", o.codec)
	}
	return nil
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
	start := kgo.NewOffset().AtEnd()
	if o.fromBeginning {
		start = kgo.NewOffset().AtStart()
	}
	opts := []kgo.Opt{kgo.ConsumeTopics(o.topic), kgo.ConsumeResetOffset(start)}
	if o.group != "" {
		opts = append(opts, kgo.ConsumerGroup(o.group), kgo.AutoCommitMarks())
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
		if stop {
			break
		}
	}
	return nil
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

	reg     *regclient.Client    // created on the first Avro frame
	reader  *codecs.Avro         // with --schema
	writers map[int]*codecs.Avro // without --schema, one per writer id
	failed  map[int]error        // writer ids that will never decode
}

func (o *consumeOptions) newValueDecoder() (*valueDecoder, error) {
	d := &valueDecoder{codec: o.codec, conn: &o.conn, schema: o.schema,
		writers: map[int]*codecs.Avro{}, failed: map[int]error{}}
	if o.schema == "" {
		return d, nil
	}
	if o.codec == codecAuto {
		d.codec = codecAvro
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
	if d.reader, err = codecs.NewAvro(reg, schemas, sc); err != nil {
		return nil, fmt.Errorf("creating avro codec: %w", err)
	}
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
	case codecAvro:
		v, err := d.avroValue(value)
		if err != nil {
			return render.Text(value).WithError(err.Error())
		}
		return v
	default: // auto
		if _, ok := codecs.FrameSchemaID(value); ok {
			v, err := d.avroValue(value)
			switch {
			case err == nil:
				return v
			case codecs.IsTransient(err): // the registry is unreachable: say so
				return render.Text(value).WithError(err.Error())
			}
		}
		return render.Guess(value)
	}
}

// avroValue decodes a Confluent frame and renders it as JSON.
func (d *valueDecoder) avroValue(frame []byte) (render.Value, error) {
	c := d.reader
	if c == nil {
		var err error
		if c, err = d.writerCodec(frame); err != nil {
			return render.Value{}, err
		}
	}
	v, err := c.Decode(frame)
	if err != nil {
		return render.Value{}, err
	}
	return render.Avro(c.Reader(), v)
}

// writerCodec returns a codec that decodes frames written with the frame's
// schema id into that same schema, as Confluent's Avro console consumer does.
func (d *valueDecoder) writerCodec(frame []byte) (*codecs.Avro, error) {
	id, ok := codecs.FrameSchemaID(frame)
	if !ok {
		return nil, &codecs.Error{Op: "decode", Err: errors.New("not a Confluent Avro frame")}
	}
	if c := d.writers[id]; c != nil {
		return c, nil
	}
	if err := d.failed[id]; err != nil {
		return nil, err
	}
	c, err := d.newWriterCodec(id)
	if err != nil {
		if !codecs.IsTransient(err) {
			d.failed[id] = err
		}
		return nil, err
	}
	d.writers[id] = c
	return c, nil
}

func (d *valueDecoder) newWriterCodec(id int) (*codecs.Avro, error) {
	reg, err := d.registry()
	if err != nil {
		return nil, err
	}
	// The records are printed one at a time; the client's timeout bounds the wait.
	s, err := reg.SchemaByID(context.Background(), id)
	if err != nil {
		return nil, &codecs.Error{Op: "decode", SchemaID: id, Transient: !regclient.IsNotFound(err),
			Err: fmt.Errorf("fetching writer schema: %w", err)}
	}
	if s.Type != "AVRO" {
		return nil, &codecs.Error{Op: "decode", SchemaID: id, Err: fmt.Errorf("schema is %s, not AVRO", s.Type)}
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
	return c, nil
}
