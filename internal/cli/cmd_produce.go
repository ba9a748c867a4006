package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/partition"
)

// Codec names of produce and consume.
const (
	codecAuto       = "auto"
	codecAvro       = "avro"
	codecJSONSchema = "json_schema"
	codecProtobuf   = "protobuf"
	codecJSON       = "json"
	codecString     = "string"
	codecBytes      = "bytes"
)

const (
	// maxLineBytes bounds one input line of produce.
	maxLineBytes = 16 << 20
	// produceDeliveryTimeout bounds how long a record may wait for its ack.
	produceDeliveryTimeout = 30 * time.Second
)

type produceOptions struct {
	conn connFlags
	topicFlags
	schema      string
	schemaType  string // --schema-type: avro, json or protobuf; "" infers it from --schema's extension
	message     string // --message: the Protobuf message type
	codec       string
	keyField    string
	key         string
	partitioner string
	file        string   // pipelines file whose kafka.partitioner is the default
	headers     []string // --header k=v, in order
	trace       bool
	tombstone   bool
	partition   int32 // -1: the partitioner chooses

	partitionerSet bool // --partitioner was given
	fileSet        bool // --file was given
}

func (a *app) produceCmd() *cobra.Command {
	var o produceOptions
	cmd := &cobra.Command{
		Use:   "produce --topic T [--schema FILE [--schema-type avro|json|protobuf] [--message M] | --codec json|string | --tombstone] [--key-field F | --key K]",
		Short: "Produce JSON lines read from stdin to a topic",
		Long: `Produce reads one record per line from stdin and writes it to --topic.

With --schema, each line is a JSON object written in the Confluent wire format of the
schema's type (subject <topic>-value, registered if needed): Avro (.avsc), JSON Schema
(.json: the line is validated against it) or Protobuf (.proto: compiled at run time, the
first message or --message NAME); --schema-type avro|json|protobuf overrides the file
extension, and a file of another extension is Avro. A field the schema does not have is an error naming the field and the line. --codec json writes each line as is
after checking it is JSON; --codec string writes each raw line. Without --schema, produce
warns when the topic's value subject in the registry holds an Avro schema. The record key is
the value of --key-field (a dotted path into the JSON object), or --key, or null.

--tombstone writes tombstones instead: each non-blank line is the key of one record whose
value is null (what deletes a key from a compacted topic or a table).

--header k=v (repeatable) adds headers to every record; --trace starts a W3C trace: every
record gets a traceparent header with one new trace id, printed on stderr, and its own span id.

Keys choose the partition with --partitioner, whose default is kafka.partitioner of the
pipelines file (--file, default pipelines.yaml when it exists), else murmur2. --partition N
writes every record to partition N instead.
A bad line stops the command with exit code 1; the lines before it are produced.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.partitionerSet = cmd.Flags().Changed("partitioner")
			o.fileSet = cmd.Flags().Changed("file")
			return a.runProduce(cmd.Context(), &o)
		},
	}
	addTopicFlag(cmd, &o.topicFlags, "topic to produce to")
	f := cmd.Flags()
	f.StringVar(&o.schema, "schema", "", "schema file to encode values with: Avro (.avsc), JSON Schema (.json) or Protobuf (.proto)")
	f.StringVar(&o.schemaType, "schema-type", "", "type of --schema: avro, json or protobuf (default: from the file extension)")
	f.StringVar(&o.message, "message", "", "Protobuf message type of --schema (default: the file's first message)")
	f.StringVar(&o.codec, "codec", "", "value codec without --schema: json (default) or string")
	f.StringVar(&o.keyField, "key-field", "", "take the record key from this field of each JSON line")
	f.StringVar(&o.key, "key", "", "use this key for every record")
	f.StringVar(&o.partitioner, "partitioner", partition.Murmur2Name,
		"key partitioner: murmur2 (Java client), fnv1a (sarama, goka) or crc32 (librdkafka); default: kafka.partitioner of --file")
	f.StringVarP(&o.file, "file", "f", "pipelines.yaml",
		"pipelines file whose kafka.partitioner is the default of --partitioner (ignored when the default file is absent)")
	f.StringArrayVar(&o.headers, "header", nil, "add the header k=v to every record (repeatable)")
	f.BoolVar(&o.trace, "trace", false, "start a W3C trace: a traceparent header on every record, its trace id printed on stderr")
	f.BoolVar(&o.tombstone, "tombstone", false, "each line is the key of a tombstone (a record with a null value)")
	f.Int32Var(&o.partition, "partition", -1, "write every record to this partition (default: the partitioner picks by key)")
	a.addConnFlags(cmd, &o.conn)
	registerCompletions(cmd, map[string]cobra.CompletionFunc{
		"codec":       oneOf(codecJSON, codecString),
		"schema-type": oneOf(schemaTypeAvro, schemaTypeJSON, schemaTypeProtobuf),
		"partitioner": oneOf(partition.Murmur2Name, partition.FNV1aName, partition.CRC32Name),
	})
	return cmd
}

// noArgs rejects positional arguments as bad usage.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	return nil
}

// validate checks the flag combination and fills in the codec default.
func (o *produceOptions) validate() error {
	if err := o.topicFlags.validate(); err != nil {
		return err
	}
	if o.schema == "" && (o.schemaType != "" || o.message != "") {
		return usagef("--schema-type and --message go with --schema FILE")
	}
	if o.schema != "" {
		codec, err := schemaCodec(o.schema, o.schemaType)
		if err != nil {
			return err
		}
		if o.codec != "" && o.codec != codec {
			return usagef("--schema %s encodes %s; it cannot be combined with --codec %s", o.schema, codec, o.codec)
		}
		o.codec = codec
		if o.message != "" && codec != codecProtobuf {
			return usagef("--message names a Protobuf message; %s is not a .proto schema", o.schema)
		}
	}
	switch {
	case o.schema != "":
	case o.codec == "":
		o.codec = codecJSON
	case o.codec == codecAvro || o.codec == codecJSONSchema || o.codec == codecProtobuf:
		return usagef("--codec %s needs --schema FILE", o.codec)
	case o.codec != codecJSON && o.codec != codecString:
		return usagef("--codec must be json or string, got %q", o.codec)
	}
	if o.keyField != "" && o.key != "" {
		return usagef("--key-field and --key are mutually exclusive")
	}
	if o.tombstone {
		switch {
		case o.schema != "" || o.codec != codecJSON:
			return usagef("--tombstone writes null values; it cannot be combined with --schema or --codec")
		case o.key != "" || o.keyField != "":
			return usagef("--tombstone reads the keys from stdin, one per line; it cannot be combined with --key or --key-field")
		}
	}
	if o.partition < -1 {
		return usagef("--partition must be >= 0, got %d", o.partition)
	}
	if _, err := parseHeaders(o.headers, o.trace); err != nil {
		return err
	}
	if o.keyField != "" && o.codec == codecString {
		return usagef("--key-field needs JSON lines (--schema or --codec json), not --codec string")
	}
	if _, err := partition.KeyHasher(o.partitioner); err != nil {
		return usagef("--partitioner: %v", err)
	}
	return nil
}

func (a *app) runProduce(ctx context.Context, o *produceOptions) error {
	a.resolveConn(&o.conn)
	if err := o.validate(); err != nil {
		return err
	}
	if err := a.resolvePartitioner(o); err != nil {
		return err
	}
	headers, err := parseHeaders(o.headers, o.trace)
	if err != nil {
		return err
	}
	enc, err := o.newLineEncoder()
	if err != nil {
		return err
	}
	part, err := partition.NewPartitioner(o.partitioner)
	if err != nil {
		return usagef("--partitioner: %v", err)
	}
	if o.partition >= 0 {
		part = kgo.ManualPartitioner()
	}
	cl, err := o.conn.newKafkaClient(
		kgo.DefaultProduceTopic(o.topic),
		kgo.RecordPartitioner(part),
		kgo.AllowAutoTopicCreation(),
		kgo.RecordDeliveryTimeout(produceDeliveryTimeout),
	)
	if err != nil {
		return err
	}
	defer cl.Close()
	switch ok, err := o.conn.topicExistsSoon(ctx, o.topic); {
	case err != nil:
		return err
	case !ok:
		return fmt.Errorf("topic %s does not exist and the broker does not create topics on demand", o.topic)
	}

	if enc.registered != nil { // register now: a registry problem is not a line's fault
		if _, err := enc.registered.Register(ctx); err != nil {
			return fmt.Errorf("schema %s: %w", o.schema, err)
		}
	} else if !o.tombstone {
		a.warnIfAvroSubject(ctx, o)
	}
	var trace *traceStarter
	if o.trace {
		if trace, err = newTraceStarter(); err != nil {
			return err
		}
		fmt.Fprintf(a.stderr, "trace %s\n", trace.traceID)
	}

	p := &producer{cl: cl}
	lineErr := readLines(ctx, a.stdin, func(n int, line []byte) error {
		if err := p.failed(); err != nil {
			return err
		}
		key, value, skip, err := enc.encode(line)
		if err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if skip {
			return nil
		}
		r := &kgo.Record{Key: key, Value: value, Headers: slices.Clone(headers), Partition: o.partition}
		if trace != nil {
			tp, err := trace.next()
			if err != nil {
				return err
			}
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: traceparentHeader, Value: []byte(tp)})
		}
		p.produce(ctx, r)
		return nil
	})
	// Deliver what was accepted even when interrupted: a cancelled ctx would
	// make Flush return at once and Close drop the buffered records.
	flushCtx, cancelFlush := context.WithTimeout(context.WithoutCancel(ctx), produceDeliveryTimeout)
	flushErr := cl.Flush(flushCtx)
	cancelFlush()
	produced := p.acked()
	fmt.Fprintf(a.stderr, "produced %d records to %s\n", produced, o.topic)
	err = lineErr
	if pErr := p.failed(); pErr != nil && !errors.Is(lineErr, pErr) {
		err = errors.Join(err, pErr)
	}
	if err != nil {
		return fmt.Errorf("%w (%d records produced before the error)", err, produced)
	}
	if flushErr != nil {
		return fmt.Errorf("waiting for acks: %w", flushErr)
	}
	return nil
}

// producer produces records asynchronously and keeps the count of acked
// records and the first failure.
type producer struct {
	cl *kgo.Client

	mu    sync.Mutex
	n     int
	first error
}

func (p *producer) produce(ctx context.Context, r *kgo.Record) {
	p.cl.Produce(ctx, r, func(r *kgo.Record, err error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch {
		case err == nil:
			p.n++
		case p.first == nil:
			p.first = fmt.Errorf("producing to %s[%d]: %w", r.Topic, r.Partition, err)
		}
	})
}

func (p *producer) acked() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

func (p *producer) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.first
}

// lineEncoder turns input lines into record keys and values.
type lineEncoder struct {
	codec     string
	tombstone bool     // each line is a key, the value null
	keyField  []string // dotted path, nil when unused
	key       []byte   // fixed key, nil when unused
	schema    avro.Schema
	avro      *codecs.Avro
	// registered is the codec of --schema (Avro, JSON Schema or Protobuf).
	registered registeredEncoder
}

// registeredEncoder is a codec whose schema is registered (codecs.Avro,
// codecs.JSONSchema, codecs.Protobuf).
type registeredEncoder interface {
	Register(ctx context.Context) (int, error)
	Encode(v any) ([]byte, error)
}

func (o *produceOptions) newLineEncoder() (*lineEncoder, error) {
	e := &lineEncoder{codec: o.codec, tombstone: o.tombstone}
	if o.keyField != "" {
		e.keyField = strings.Split(o.keyField, ".")
	}
	if o.key != "" {
		e.key = []byte(o.key)
	}
	switch o.codec {
	case codecJSONSchema, codecProtobuf:
		var err error
		e.registered, err = newSchemaEncoder(o.conn, o.schema, o.codec, o.message, o.topic)
		return e, err
	case codecAvro:
	default:
		return e, nil
	}
	schemas := codecs.NewSchemas()
	sc, err := schemas.ParseFile(o.schema)
	if err != nil {
		return nil, usagef("--schema: %v", err)
	}
	reg, err := o.conn.newRegistryClient()
	if err != nil {
		return nil, err
	}
	e.schema = sc
	e.avro, err = codecs.NewAvro(reg, schemas, sc,
		codecs.WithSubject(o.topic, codecs.TopicNameStrategy))
	if err != nil {
		return nil, fmt.Errorf("creating avro codec: %w", err)
	}
	e.registered = e.avro
	return e, nil
}

// encode returns the key and value of one line; skip is true for a blank
// line of a JSON codec or of --tombstone.
func (e *lineEncoder) encode(line []byte) (key, value []byte, skip bool, err error) {
	if e.tombstone {
		if len(bytes.TrimSpace(line)) == 0 {
			return nil, nil, true, nil
		}
		return line, nil, false, nil
	}
	if e.codec == codecString {
		return e.key, line, false, nil
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return nil, nil, true, nil
	}
	v, err := parseJSONLine(line)
	if err != nil {
		return nil, nil, false, err
	}
	key = e.key
	if e.keyField != nil {
		if key, err = keyFromField(v, e.keyField); err != nil {
			return nil, nil, false, err
		}
	}
	switch e.codec {
	case codecJSON:
		return key, line, false, nil
	case codecJSONSchema, codecProtobuf:
		// The codecs take JSON's values (json.Number included) and say
		// which field is wrong.
		if value, err = e.registered.Encode(v); err != nil {
			return nil, nil, false, err
		}
		return key, value, false, nil
	}
	canon, err := codecs.CoerceStrict(e.schema, v)
	if err != nil {
		return nil, nil, false, err
	}
	value, err = e.avro.Encode(canon)
	if err != nil {
		return nil, nil, false, fmt.Errorf("encoding avro: %w", err)
	}
	return key, value, false, nil
}

// parseJSONLine decodes exactly one JSON value, keeping numbers exact.
func parseJSONLine(line []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: trailing data after the value")
	}
	return v, nil
}

// keyFromField renders the value at path as the record key.
func keyFromField(v any, path []string) ([]byte, error) {
	name := strings.Join(path, ".")
	for _, seg := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("key field %s: not inside a JSON object", name)
		}
		if v, ok = obj[seg]; !ok {
			return nil, fmt.Errorf("key field %s: missing", name)
		}
	}
	switch x := v.(type) {
	case nil:
		return nil, fmt.Errorf("key field %s: null", name)
	case string:
		return []byte(x), nil
	case json.Number:
		return []byte(x.String()), nil
	case bool:
		return []byte(strconv.FormatBool(x)), nil
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return nil, fmt.Errorf("key field %s: %w", name, err)
		}
		return b, nil
	}
}

// readLines calls fn with each line of r (numbered from 1) until EOF, an
// error from fn, or ctx is done. Lines are read in a goroutine so that a
// cancelled ctx is noticed while waiting for input. When readLines returns
// early, the goroutine exits as soon as its pending Read returns; readLines
// waits for it only when it can interrupt that Read with a read deadline
// (pipes), since a Read on a terminal or an in-memory pipe cannot be aborted.
func readLines(ctx context.Context, r io.Reader, fn func(n int, line []byte) error) error {
	type item struct {
		line []byte
		err  error // non-nil on the last item, io.EOF at the end
	}
	items := make(chan item)
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), maxLineBytes)
		send := func(it item) bool {
			select {
			case items <- it:
				return true
			case <-done:
				return false
			}
		}
		for sc.Scan() {
			if !send(item{line: bytes.Clone(sc.Bytes())}) {
				return
			}
		}
		err := sc.Err()
		if err == nil {
			err = io.EOF
		}
		send(item{err: err})
	}()
	stop := func() {
		close(done)
		if d, ok := r.(interface{ SetReadDeadline(time.Time) error }); ok && d.SetReadDeadline(time.Now()) == nil {
			<-exited
		}
	}

	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			stop()
			return fmt.Errorf("interrupted: %w", ctx.Err())
		case it := <-items:
			if it.err == io.EOF {
				<-exited
				return nil
			}
			if it.err != nil {
				<-exited
				return fmt.Errorf("reading line %d: %w", n, it.err)
			}
			if err := fn(n, it.line); err != nil {
				stop()
				return err
			}
		}
	}
}
