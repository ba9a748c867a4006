package pipeline

import (
	"sort"
	"sync"

	"github.com/IBM/sarama"
)

// committingSession is a group session whose commits cover only messages
// that are done, in each partition's order, and carry the input history's
// metadata.
//
// Goka commits each message once its own writes (table entry, and the
// handler's outputs through DeferCommit) are acknowledged, message by
// message: a filtered message commits at once, while an earlier message of
// the same partition may still wait for the broker to acknowledge its
// output. Sarama's MarkOffset only moves forward, so committing the later
// message would also commit the earlier one, and a crash before its
// acknowledgement would lose that output (or table write) for good. Here a
// commit goka asks for is held until every message delivered before it in
// its partition is done, and then the partition's offset moves to the end
// of the done run.
//
// Every message goka is given passes delivered first (notingHandler's claim
// goroutine notes it before handing it on), so a partition's queue holds
// them in delivery order, which is offset order.
type committingSession struct {
	sarama.ConsumerGroupSession
	metadata string

	mu     sync.Mutex
	queues map[topicPartition]*offsetQueue
}

type topicPartition struct {
	topic     string
	partition int32
}

func newCommittingSession(s sarama.ConsumerGroupSession, metadata string) *committingSession {
	return &committingSession{ConsumerGroupSession: s, metadata: metadata, queues: map[topicPartition]*offsetQueue{}}
}

// delivered notes a message before goka gets it.
func (s *committingSession) delivered(m *sarama.ConsumerMessage) {
	tp := topicPartition{m.Topic, m.Partition}
	s.mu.Lock()
	q := s.queues[tp]
	if q == nil {
		q = &offsetQueue{}
		s.queues[tp] = q
	}
	q.add(m.Offset)
	s.mu.Unlock()
}

// MarkOffset is goka's commit of the message at offset-1: the partition's
// offset moves once every message before it is done too. Goka marks with
// no metadata; the history's goes with every commit instead.
func (s *committingSession) MarkOffset(topic string, partition int32, offset int64, _ string) {
	s.mu.Lock()
	next, move := offset, true
	if q := s.queues[topicPartition{topic, partition}]; q != nil {
		next, move = q.done(offset - 1)
	}
	s.mu.Unlock()
	if move {
		s.ConsumerGroupSession.MarkOffset(topic, partition, next, s.metadata)
	}
}

func (s *committingSession) MarkMessage(msg *sarama.ConsumerMessage, metadata string) {
	s.MarkOffset(msg.Topic, msg.Partition, msg.Offset+1, metadata)
}

// offsetQueue is one partition's delivered messages that are not committed
// yet, in offset order.
type offsetQueue struct {
	pending []pendingOffset
	head    int // pending[:head] are committed
}

type pendingOffset struct {
	offset int64
	done   bool
}

func (q *offsetQueue) add(offset int64) {
	q.pending = append(q.pending, pendingOffset{offset: offset})
}

// done marks the message at offset done and returns the offset to commit
// when the run of done messages at the queue's head grew (the offset after
// its last), move false when an earlier message is not done yet. A message
// the queue does not hold is committed as asked, as without the queue.
func (q *offsetQueue) done(offset int64) (next int64, move bool) {
	live := q.pending[q.head:]
	i := sort.Search(len(live), func(i int) bool { return live[i].offset >= offset })
	if i == len(live) || live[i].offset != offset {
		return offset + 1, true
	}
	live[i].done = true
	for q.head < len(q.pending) && q.pending[q.head].done {
		next, move = q.pending[q.head].offset+1, true
		q.head++
	}
	// Drop the committed prefix once it is most of the slice.
	if q.head > 256 && q.head*2 > len(q.pending) {
		n := copy(q.pending, q.pending[q.head:])
		q.pending, q.head = q.pending[:n], 0
	}
	return next, move
}
