package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/registry/regclient"
)

// traceparentHeader is the W3C Trace Context header that --trace writes.
const traceparentHeader = "traceparent"

// avroSubjectTimeout bounds the registry lookup behind the warning that
// plain values go to a topic whose value subject is Avro.
const avroSubjectTimeout = 3 * time.Second

// parseHeaders turns --header k=v flags into record headers, in order.
// A header may repeat; traceparent is --trace's when tracing.
func parseHeaders(flags []string, trace bool) ([]kgo.RecordHeader, error) {
	var hs []kgo.RecordHeader
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		switch {
		case !ok || k == "":
			return nil, usagef("--header %q: want key=value", f)
		case trace && strings.EqualFold(k, traceparentHeader):
			return nil, usagef("--header %s: --trace writes that header", k)
		}
		hs = append(hs, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	return hs, nil
}

// traceStarter makes the traceparent headers of one W3C trace: one trace
// id, a new parent (span) id for each record, sampled.
type traceStarter struct {
	traceID string
}

func newTraceStarter() (*traceStarter, error) {
	id, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	return &traceStarter{traceID: id}, nil
}

// next returns the traceparent of the next record.
func (t *traceStarter) next() (string, error) {
	span, err := randomHex(8)
	if err != nil {
		return "", err
	}
	return "00-" + t.traceID + "-" + span + "-01", nil
}

// randomHex returns n random bytes in lowercase hex, never all zeros
// (an invalid trace or span id).
func randomHex(n int) (string, error) {
	b := make([]byte, n)
	for {
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("making a trace id: %w", err)
		}
		for _, c := range b {
			if c != 0 {
				return hex.EncodeToString(b), nil
			}
		}
	}
}

// resolvePartitioner sets the partitioner from the pipelines file's
// kafka.partitioner unless --partitioner was given. The default file is read
// only when it exists, and a problem with it is a warning: produce does not
// need it. A --file given explicitly must load.
func (a *app) resolvePartitioner(o *produceOptions) error {
	if o.partitionerSet {
		return nil
	}
	if !o.fileSet {
		if _, err := os.Stat(o.file); err != nil {
			return nil
		}
	}
	cfg, err := a.loadConfig(o.file)
	if err != nil {
		if o.fileSet {
			return err
		}
		fmt.Fprintf(a.stderr, "sluice: warning: not taking kafka.partitioner from %s, which does not load; partitioning keys with %s:\n%v\n",
			o.file, o.partitioner, err)
		return nil
	}
	o.partitioner = cfg.Kafka.Partitioner
	return nil
}

// warnIfAvroSubject warns when the topic's value subject holds an Avro
// schema while produce writes values that are not Avro: consumers decoding
// the topic as Avro will dead-letter them. A missing subject or an
// unreachable registry is no reason to warn.
func (a *app) warnIfAvroSubject(ctx context.Context, o *produceOptions) {
	reg, err := o.conn.newRegistryClient()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, avroSubjectTimeout)
	defer cancel()
	subject := o.topic + "-value"
	s, err := reg.SchemaByVersion(ctx, subject, regclient.Latest)
	if err != nil || s.Type != "AVRO" {
		return
	}
	fmt.Fprintf(a.stderr, "sluice: warning: subject %s holds an Avro schema (id %d) but these values are plain %s: "+
		"consumers that decode %s as Avro will fail on them; use --schema FILE to write Avro\n",
		subject, s.ID, o.codec, o.topic)
}
