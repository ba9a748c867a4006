package dlq_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/dlq"
	"github.com/sluicehq/sluice/internal/render"
)

// The JSON lines of inspect are a contract: this pins their bytes.
func TestJSONWriter(t *testing.T) {
	var buf bytes.Buffer
	jw := dlq.NewJSONWriter(&buf)
	r := deadLetter()
	r.Timestamp = time.UnixMilli(1700000000999)
	if err := jw.Write(&dlq.Entry{Letter: dlq.Parse(r), Value: render.Value{JSON: []byte(`{"note":"<b> & c"}`)}}); err != nil {
		t.Fatal(err)
	}
	again := deadLetter()
	again.Key, again.Timestamp = nil, time.UnixMilli(5)
	again.Headers = append(again.Headers[:11], kgo.RecordHeader{Key: deadletter.HeaderReplayCount, Value: []byte("2")})
	if err := jw.Write(&dlq.Entry{Letter: dlq.Parse(again), Value: render.Value{Base64: "/w==", Error: "fetching writer schema: boom"}}); err != nil {
		t.Fatal(err)
	}
	want := `{"dlq":{"topic":"user-topic-dlq","partition":1,"offset":42,"timestamp":1700000000999},` +
		`"pipeline":"user-stats","stage":"validate","kind":"poison","message":"amount -3 < 0",` +
		`"topic":"user-topic","partition":2,"offset":1234,"timestamp":1700000000123,"attempts":1,"schema_id":3,` +
		`"key":"user-7","headers":{"sluice.attempts":"1","sluice.error.kind":"poison","sluice.error.message":"amount -3 < 0",` +
		`"sluice.error.stage":"validate","sluice.pipeline":"user-stats","sluice.schema.id":"3","sluice.source.offset":"1234",` +
		`"sluice.source.partition":"2","sluice.source.timestamp":"1700000000123","sluice.source.topic":"user-topic",` +
		`"tenant":"acme","traceparent":"00-abc-01"},"value":{"note":"<b> & c"}}` + "\n" +
		`{"dlq":{"topic":"user-topic-dlq","partition":1,"offset":42,"timestamp":5},` +
		`"pipeline":"user-stats","stage":"validate","kind":"poison","message":"amount -3 < 0",` +
		`"topic":"user-topic","partition":2,"offset":1234,"timestamp":1700000000123,"attempts":1,"schema_id":3,"replay_count":2,` +
		`"key":null,"headers":{"sluice.attempts":"1","sluice.error.kind":"poison","sluice.error.message":"amount -3 < 0",` +
		`"sluice.error.stage":"validate","sluice.pipeline":"user-stats","sluice.replay.count":"2","sluice.schema.id":"3",` +
		`"sluice.source.offset":"1234","sluice.source.partition":"2","sluice.source.timestamp":"1700000000123",` +
		`"sluice.source.topic":"user-topic","traceparent":"00-abc-01"},"value_base64":"/w==","value_error":"fetching writer schema: boom"}` + "\n"
	if got := buf.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// A record without sluice headers has no pipeline, stage, kind, message or
// attempts to show: those fields, which only inspect prints, are left out.
func TestJSONWriterBareRecord(t *testing.T) {
	var buf bytes.Buffer
	r := &kgo.Record{Topic: "d", Key: []byte{0xff}, Timestamp: time.UnixMilli(5)}
	if err := dlq.NewJSONWriter(&buf).Write(&dlq.Entry{Letter: dlq.Parse(r), Value: render.Base64([]byte{0xff})}); err != nil {
		t.Fatal(err)
	}
	want := `{"dlq":{"topic":"d","partition":0,"offset":0,"timestamp":5},"topic":"","partition":-1,"offset":-1,"timestamp":0,` +
		`"key":null,"key_base64":"/w==","headers":{},"value_base64":"/w=="}` + "\n"
	if got := buf.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
