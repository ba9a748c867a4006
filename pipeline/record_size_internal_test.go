package pipeline

import (
	"bytes"
	"testing"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestRecordSizeBoundsTheBatch checks recordSize against the bytes of a real
// v2 record batch holding the record alone: it never falls short, and it
// overestimates by little.
func TestRecordSizeBoundsTheBatch(t *testing.T) {
	for _, c := range []struct {
		key, value []byte
		headers    []sarama.RecordHeader
	}{
		{nil, nil, nil},
		{[]byte("k"), []byte("v"), nil},
		{nil, bytes.Repeat([]byte("x"), 1048300), []sarama.RecordHeader{{Key: []byte("traceparent"), Value: []byte("00-abc-01")}}},
		{bytes.Repeat([]byte("k"), 300), bytes.Repeat([]byte("x"), 70000), []sarama.RecordHeader{
			{Key: []byte("a"), Value: nil}, {Key: []byte("a"), Value: bytes.Repeat([]byte("h"), 200)}}},
	} {
		rec := kmsg.NewRecord()
		rec.Key, rec.Value = c.key, c.value
		rec.TimestampDelta64, rec.OffsetDelta = 1<<40, 0 // a large delta: a long varint
		for _, h := range c.headers {
			rec.Headers = append(rec.Headers, kmsg.Header{Key: string(h.Key), Value: h.Value})
		}
		// AppendTo writes the record with its Length (0: one byte); the
		// real length varint replaces that byte.
		body := rec.AppendTo(nil)[1:]
		rec.Length = int32(len(body))
		actual := batchOverhead + len(rec.AppendTo(nil))
		got := recordSize(c.key, c.value, c.headers)
		if got < actual || got > actual+64 {
			t.Errorf("recordSize(key %d, value %d, %d headers) = %d, the batch takes %d", len(c.key), len(c.value), len(c.headers), got, actual)
		}
	}
}

func TestSizeLimit(t *testing.T) {
	l := newSizeLimit(nil)
	if l.max != DefaultMaxMessageBytes || l.bytes != DefaultMaxMessageBytes-sizeMargin {
		t.Errorf("limit without targets: %+v", l)
	}
	l = newSizeLimit(map[string]int{"out": 5000000, "dlq": 1048588, "table": 2000000})
	if l.topic != "dlq" || l.max != 1048588 || l.check(l.bytes) != nil || l.check(l.bytes+1) == nil {
		t.Errorf("limit %+v", l)
	}
	if l.producerMax() != 1048588-batchSlack {
		t.Errorf("producer limit %d", l.producerMax())
	}
}
