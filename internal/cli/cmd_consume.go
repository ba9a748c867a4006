package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/hamba/avro/v2"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/registry/regclient"
)

// commitTimeout bounds the final offset commit of a group consumer.
const commitTimeout = 10 * time.Second

type consumeOptions struct {
	conn          connFlags
	topic         string
	fromBeginning bool
	max           int
	timeout       time.Duration
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
	f := cmd.Flags()
	f.StringVar(&o.topic, "topic", "", "topic to consume (required)")
	f.BoolVar(&o.fromBeginning, "from-beginning", false,
		"start at the earliest offset (with --group: when the group has no committed offset)")
	f.IntVar(&o.max, "max", 0, "stop after this many records (0 = no limit)")
	f.DurationVar(&o.timeout, "timeout", 0, "stop when no record arrives for this long (0 = never)")
	f.StringVar(&o.schema, "schema", "", "Avro reader schema file (.avsc) to decode values to")
	f.StringVar(&o.codec, "codec", codecAuto, "value codec: auto, avro, json, string or bytes")
	f.StringVar(&o.group, "group", "", "consume in this consumer group and commit what was printed")
	a.addConnFlags(cmd, &o.conn)
	return cmd
}

func (o *consumeOptions) validate() error {
	if o.topic == "" {
		return usagef("--topic is required")
	}
	if o.max < 0 {
		return usagef("--max must be >= 0, got %d", o.max)
	}
	if o.timeout < 0 {
		return usagef("--timeout must be >= 0, got %s", o.timeout)
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
	cl, err := o.conn.newKafkaClient(opts...)
	if err != nil {
		return err
	}
	// Never auto-create here: sluice creates its topics with the right
	// partition count, and a consumer started first must not pre-empt that.
	switch ok, err := topicExists(ctx, cl, o.topic, false); {
	case err != nil:
		cl.Close()
		return err
	case !ok:
		fmt.Fprintf(a.stderr, "sluice: topic %s does not exist yet; waiting for it\n", o.topic)
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
	p := &recordPrinter{enc: json.NewEncoder(w), dec: dec}
	p.enc.SetEscapeHTML(false)
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

// consumedRecord is the JSON line printed for one record.
type consumedRecord struct {
	Topic       string            `json:"topic"`
	Partition   int32             `json:"partition"`
	Offset      int64             `json:"offset"`
	Timestamp   int64             `json:"timestamp"`
	Key         *string           `json:"key"`
	KeyBase64   string            `json:"key_base64,omitempty"`
	Headers     map[string]string `json:"headers"`
	Value       json.RawMessage   `json:"value,omitempty"`
	ValueBase64 string            `json:"value_base64,omitempty"`
	Error       string            `json:"error,omitempty"`
}

type recordPrinter struct {
	enc *json.Encoder
	dec *valueDecoder
}

func (p *recordPrinter) print(r *kgo.Record) error {
	out := consumedRecord{
		Topic:     r.Topic,
		Partition: r.Partition,
		Offset:    r.Offset,
		Timestamp: r.Timestamp.UnixMilli(),
		Headers:   make(map[string]string, len(r.Headers)),
	}
	switch {
	case r.Key == nil:
	case utf8.Valid(r.Key):
		k := string(r.Key)
		out.Key = &k
	default:
		out.KeyBase64 = base64.StdEncoding.EncodeToString(r.Key)
	}
	for _, h := range r.Headers {
		out.Headers[h.Key] = string(h.Value)
	}
	p.dec.render(r.Value, &out)
	if err := p.enc.Encode(&out); err != nil {
		return fmt.Errorf("writing record %s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, err)
	}
	return nil
}

// renderRaw sets the value as a JSON string when it is UTF-8, else as base64.
func renderRaw(value []byte, out *consumedRecord) {
	if !utf8.Valid(value) {
		out.ValueBase64 = base64.StdEncoding.EncodeToString(value)
		return
	}
	s, err := json.Marshal(string(value))
	if err != nil { // cannot happen for a string
		out.Error = err.Error()
		return
	}
	out.Value = s
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

// render sets out's value fields.
func (d *valueDecoder) render(value []byte, out *consumedRecord) {
	if value == nil {
		out.Value = json.RawMessage("null")
		return
	}
	switch d.codec {
	case codecBytes:
		out.ValueBase64 = base64.StdEncoding.EncodeToString(value)
	case codecString:
		renderRaw(value, out)
	case codecJSON:
		if !json.Valid(value) {
			out.Error = "value is not valid JSON"
			renderRaw(value, out)
			return
		}
		out.Value = value
	case codecAvro:
		if err := d.renderAvro(value, out); err != nil {
			out.Error = err.Error()
			renderRaw(value, out)
		}
	default: // auto
		if _, ok := codecs.FrameSchemaID(value); ok {
			err := d.renderAvro(value, out)
			if err == nil {
				return
			}
			if codecs.IsTransient(err) { // the registry is unreachable: say so
				out.Error = err.Error()
				renderRaw(value, out)
				return
			}
		}
		if json.Valid(value) {
			out.Value = value
			return
		}
		renderRaw(value, out)
	}
}

// renderAvro decodes a Confluent frame and sets out.Value to its JSON form.
func (d *valueDecoder) renderAvro(frame []byte, out *consumedRecord) error {
	c := d.reader
	if c == nil {
		var err error
		if c, err = d.writerCodec(frame); err != nil {
			return err
		}
	}
	v, err := c.Decode(frame)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := writeAvroJSON(&buf, c.Reader(), v); err != nil {
		return fmt.Errorf("rendering avro value as JSON: %w", err)
	}
	out.Value = buf.Bytes()
	return nil
}

// writeAvroJSON renders a decoded Avro value with codecs.ToJSON, writing
// record fields in schema order (as Avro console consumers do) rather than
// encoding/json's sorted map order.
func writeAvroJSON(buf *bytes.Buffer, s avro.Schema, v any) error {
	switch sch := s.(type) {
	case *avro.RefSchema:
		return writeAvroJSON(buf, sch.Schema(), v)
	case *avro.RecordSchema:
		m, ok := v.(map[string]any)
		if !ok {
			break
		}
		buf.WriteByte('{')
		n := 0
		for _, f := range sch.Fields() {
			fv, ok := m[f.Name()]
			if !ok {
				continue
			}
			if n > 0 {
				buf.WriteByte(',')
			}
			n++
			if err := writePlainJSON(buf, f.Name()); err != nil {
				return err
			}
			buf.WriteByte(':')
			if err := writeAvroJSON(buf, f.Type(), fv); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case *avro.ArraySchema:
		items, ok := v.([]any)
		if !ok {
			break
		}
		buf.WriteByte('[')
		for i, item := range items {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeAvroJSON(buf, sch.Items(), item); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case *avro.UnionSchema:
		if rec := onlyRecordBranch(sch); rec != nil && v != nil {
			if _, ok := v.(map[string]any); ok {
				return writeAvroJSON(buf, rec, v)
			}
		}
	}
	return writePlainJSON(buf, codecs.ToJSON(v))
}

// onlyRecordBranch returns the union's record branch when it has exactly one.
func onlyRecordBranch(u *avro.UnionSchema) avro.Schema {
	var rec avro.Schema
	for _, t := range u.Types() {
		b := t
		if ref, ok := b.(*avro.RefSchema); ok {
			b = ref.Schema()
		}
		if _, ok := b.(*avro.RecordSchema); ok {
			if rec != nil {
				return nil
			}
			rec = b
		}
	}
	return rec
}

func writePlainJSON(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	return nil
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
