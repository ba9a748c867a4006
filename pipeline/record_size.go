package pipeline

import (
	"fmt"

	"github.com/IBM/sarama"
)

// DefaultMaxMessageBytes is Kafka's default message.max.bytes, the limit of
// a topic that sets no max.message.bytes.
const DefaultMaxMessageBytes = 1048588

// Sizes of a v2 record batch as the broker checks them against a topic's
// max.message.bytes (the whole batch counts). Record framing is counted
// with every varint at its largest, as sarama does, so the estimate never
// falls short.
const (
	batchOverhead  = 61 // the record batch header
	recordOverhead = 36 // length, attributes, timestamp and offset deltas, key and value lengths, header count
	headerOverhead = 10 // a header's key and value lengths
	// sizeMargin is kept free below the limit, for what a broker may
	// count that this estimate does not.
	sizeMargin = 512
	// batchSlack is what sarama's own estimate of a batch leaves out (the
	// batch's base offset and length): its MaxMessageBytes is the limit
	// less this, so that the batches it builds fit too.
	batchSlack = 12
)

// recordSize is an upper bound of the bytes a record takes in a batch of its
// own.
func recordSize(key, value []byte, headers []sarama.RecordHeader) int {
	n := batchOverhead + recordOverhead + len(key) + len(value)
	for _, h := range headers {
		n += headerOverhead + len(h.Key) + len(h.Value)
	}
	return n
}

// sizeLimit is the largest record a pipeline writes: the smallest
// max.message.bytes among its target topics (outputs, dead-letter topic,
// table), less a margin. One producer writes them all and sarama applies one
// limit to its batches, so one limit holds for every target.
type sizeLimit struct {
	bytes int    // the largest record size allowed
	topic string // the target topic with the smallest max.message.bytes
	max   int    // its max.message.bytes
}

// newSizeLimit returns the limit for targets given by their max.message.bytes.
func newSizeLimit(targets map[string]int) sizeLimit {
	l := sizeLimit{max: DefaultMaxMessageBytes}
	first := true
	for topic, max := range targets {
		if first || max < l.max || (max == l.max && topic < l.topic) {
			l.topic, l.max, first = topic, max, false
		}
	}
	// sarama refuses a MaxMessageBytes at or above its largest request.
	ceiling := int(sarama.MaxRequestSize) - 64*1024
	l.bytes = min(l.max, ceiling) - sizeMargin
	return l
}

// producerMax is sarama's Producer.MaxMessageBytes for this limit.
func (l sizeLimit) producerMax() int {
	return min(l.max, int(sarama.MaxRequestSize)-64*1024) - batchSlack
}

// check returns an error when a record of size bytes would not fit.
func (l sizeLimit) check(size int) error {
	if size <= l.bytes {
		return nil
	}
	return fmt.Errorf("a record of %d bytes would not fit: the pipeline writes records of at most %d bytes (max.message.bytes %d of topic %s, the smallest among its target topics, less %d kept free)",
		size, l.bytes, l.max, l.topic, sizeMargin)
}
