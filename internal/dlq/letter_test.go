package dlq_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/dlq"
	"github.com/sluicehq/sluice/internal/render"
)

func header(k, v string) kgo.RecordHeader { return kgo.RecordHeader{Key: k, Value: []byte(v)} }

func deadLetter() *kgo.Record {
	return &kgo.Record{Topic: "user-topic-dlq", Partition: 1, Offset: 42, Key: []byte("user-7"),
		Value: []byte{0, 0, 0, 0, 3, 2, 'x'},
		Headers: []kgo.RecordHeader{
			header("traceparent", "00-abc-01"),
			header(deadletter.HeaderPipeline, "user-stats"),
			header(deadletter.HeaderStage, "validate"),
			header(deadletter.HeaderKind, deadletter.KindPoison),
			header(deadletter.HeaderMessage, "amount -3 < 0"),
			header(deadletter.HeaderSourceTopic, "user-topic"),
			header(deadletter.HeaderSourcePartition, "2"),
			header(deadletter.HeaderSourceOffset, "1234"),
			header(deadletter.HeaderSourceTimestamp, "1700000000123"),
			header(deadletter.HeaderAttempts, "1"),
			header(deadletter.HeaderSchemaID, "3"),
			header("tenant", "acme"),
		}}
}

func TestParse(t *testing.T) {
	l := dlq.Parse(deadLetter())
	if l.Pipeline != "user-stats" || l.Stage != "validate" || l.Kind != "poison" || l.Message != "amount -3 < 0" ||
		l.SourceTopic != "user-topic" || l.SourcePartition != 2 || l.SourceOffset != 1234 ||
		l.SourceTimestamp != 1700000000123 || l.Attempts != 1 || l.SchemaID != 3 || l.ReplayCount != 0 ||
		l.Headers["tenant"] != "acme" || len(l.Headers) != 12 {
		t.Fatalf("Parse = %+v", l)
	}
	// Absent or malformed numbers: -1 for positions, 0 for the rest.
	l = dlq.Parse(&kgo.Record{Headers: []kgo.RecordHeader{header(deadletter.HeaderSourceOffset, "x")}})
	if l.SourcePartition != -1 || l.SourceOffset != -1 || l.Attempts != 0 || l.SchemaID != 0 || l.SourceTopic != "" {
		t.Fatalf("Parse of a bare record = %+v", l)
	}
}

func TestReplayRecord(t *testing.T) {
	orig := deadLetter()
	l := dlq.Parse(orig)
	out := l.ReplayRecord("user-topic")
	if out.Topic != "user-topic" || out.Partition != 2 || !bytes.Equal(out.Key, orig.Key) || !bytes.Equal(out.Value, orig.Value) {
		t.Fatalf("ReplayRecord = %+v", out)
	}
	var got []string
	for _, h := range out.Headers {
		got = append(got, h.Key+"="+string(h.Value))
	}
	if want := "traceparent=00-abc-01 tenant=acme sluice.replay.count=1 sluice.replay.pipeline=user-stats"; strings.Join(got, " ") != want {
		t.Fatalf("headers %v, want %s", got, want)
	}

	// A replayed record that is dead-lettered again counts on; without a
	// sluice.pipeline header it is addressed to no pipeline in particular.
	again := &kgo.Record{Key: out.Key, Value: out.Value, Headers: append(out.Headers,
		header(deadletter.HeaderStage, "map"), header(deadletter.HeaderSourceTopic, "user-topic"))}
	l2 := dlq.Parse(again)
	out2 := l2.ReplayRecord("elsewhere")
	if l2.ReplayCount != 1 || out2.Partition != -1 || len(out2.Headers) != 3 ||
		out2.Headers[2].Key != deadletter.HeaderReplayCount || string(out2.Headers[2].Value) != "2" {
		t.Fatalf("second replay: count %d, record %+v", l2.ReplayCount, out2)
	}
}

// An oversize letter without its value is replayed from its source record:
// the source's key, value and headers, addressed to the letter's pipeline.
func TestReplayRecordFromSource(t *testing.T) {
	orig := deadLetter()
	if l := dlq.Parse(orig); l.ValueLeftOut() {
		t.Fatalf("a poison letter with its value reads as value left out")
	}
	orig.Value = nil
	for i, h := range orig.Headers {
		if h.Key == deadletter.HeaderKind {
			orig.Headers[i].Value = []byte(deadletter.KindOversize)
		}
	}
	l := dlq.Parse(orig)
	if !l.ValueLeftOut() {
		t.Fatalf("an oversize letter without a value does not read as value left out: %+v", l)
	}
	src := &kgo.Record{Topic: "user-topic", Partition: 2, Offset: 1234, Key: []byte("user-7"), Value: bytes.Repeat([]byte("v"), 2<<20),
		Headers: []kgo.RecordHeader{header("traceparent", "00-abc-01"), header(deadletter.HeaderReplayCount, "1"), header("tenant", "acme")}}
	out := l.ReplayRecordFrom(src, "user-topic")
	var got []string
	for _, h := range out.Headers {
		got = append(got, h.Key+"="+string(h.Value))
	}
	if out.Topic != "user-topic" || out.Partition != 2 || !bytes.Equal(out.Key, src.Key) || !bytes.Equal(out.Value, src.Value) ||
		strings.Join(got, " ") != "traceparent=00-abc-01 tenant=acme sluice.replay.count=2 sluice.replay.pipeline=user-stats" {
		t.Fatalf("ReplayRecordFrom = topic %s partition %d key %q value of %d bytes, headers %v", out.Topic, out.Partition, out.Key, len(out.Value), got)
	}
}

func TestTableWriter(t *testing.T) {
	var buf bytes.Buffer
	tw := dlq.NewTableWriter(&buf)
	r := deadLetter()
	r.Timestamp = time.UnixMilli(1700000000999)
	e := &dlq.Entry{Letter: dlq.Parse(r), Value: render.Value{JSON: []byte(`{"note":"` + strings.Repeat("long\t", 40) + `"}`)}}
	if err := tw.Write(e); err != nil {
		t.Fatal(err)
	}
	e2 := &dlq.Entry{Letter: dlq.Parse(&kgo.Record{Key: []byte{0xff}}), Value: render.Value{Base64: "/w=="}}
	if err := tw.Write(e2); err != nil {
		t.Fatal(err)
	}
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("table:\n%s", buf.String())
	}
	col := strings.Index(lines[0], "MESSAGE")
	if strings.Index(lines[1], "amount -3 < 0") != col || !strings.Contains(lines[1], "user-topic[2]@1234") ||
		!strings.Contains(lines[1], "2023-11-14T22:13:20.123Z") || !strings.Contains(lines[1], "…") ||
		strings.Contains(lines[1], "\t") || !strings.Contains(lines[2], "base64:/w==") {
		t.Fatalf("table:\n%s", buf.String())
	}
}

func TestProgressBar(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	var buf bytes.Buffer
	b := dlq.NewProgressBar(&buf, true, clock)
	b.Update(dlq.Progress{Done: 0, Total: 200})
	now = now.Add(100 * time.Millisecond)
	b.Update(dlq.Progress{Done: 10, Total: 200}) // too soon: not drawn
	now = now.Add(1900 * time.Millisecond)
	b.Update(dlq.Progress{Done: 100, Total: 200, Replayed: 90, Skipped: 10})
	want := "100/200  50% 50.0 msg/s ETA 2s (replayed 90, skipped 10)"
	if got := buf.String(); strings.Count(got, "\r") != 2 || !strings.HasSuffix(got, want+"\x1b[K") {
		t.Fatalf("terminal output %q, want two redraws ending in %q", got, want)
	}
	b.Finish()
	if !strings.HasSuffix(buf.String(), "\n") {
		t.Errorf("Finish did not end the line: %q", buf.String())
	}

	buf.Reset()
	b = dlq.NewProgressBar(&buf, false, clock)
	for range 10 {
		now = now.Add(time.Second)
		b.Update(dlq.Progress{Done: 1, Total: 2})
	}
	if n := strings.Count(buf.String(), "\n"); n < 2 || n > 3 || strings.Contains(buf.String(), "\r") {
		t.Fatalf("plain output has %d lines over 10s:\n%s", n, buf.String())
	}

	buf.Reset()
	dlq.NewProgressBar(&buf, true, clock).Finish()
	if buf.Len() != 0 {
		t.Errorf("Finish without Update drew %q", buf.String())
	}
}
