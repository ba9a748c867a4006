package pipeline

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/IBM/sarama"
)

// markLog is a group session that records the offsets marked.
type markLog struct {
	sarama.ConsumerGroupSession
	marks []string
}

func (m *markLog) MarkOffset(topic string, partition int32, offset int64, metadata string) {
	m.marks = append(m.marks, fmt.Sprintf("%s/%d@%d %s", topic, partition, offset, metadata))
}

// TestCommitsInOrder: a message done before an earlier one of its partition
// (a filtered message while an output awaits its acknowledgement) is
// committed only with it; partitions are independent; every commit carries
// the history's metadata; an offset never delivered is committed as asked.
func TestCommitsInOrder(t *testing.T) {
	log := &markLog{}
	s := newCommittingSession(log, "md")
	for _, o := range []int64{10, 11, 12, 14, 15} { // 13 compacted away
		s.delivered(&sarama.ConsumerMessage{Topic: "in", Partition: 0, Offset: o})
	}
	s.delivered(&sarama.ConsumerMessage{Topic: "in", Partition: 1, Offset: 0})
	steps := []struct {
		partition int32
		offset    int64 // the message goka says is done
		want      []string
	}{
		{0, 11, nil},                  // 10 still waits
		{1, 0, []string{"in/1@1 md"}}, // another partition goes on
		{0, 10, []string{"in/0@12 md"}},
		{0, 15, nil},
		{0, 12, []string{"in/0@13 md"}},
		{0, 14, []string{"in/0@16 md"}},
		{0, 99, []string{"in/0@100 md"}},
	}
	for _, st := range steps {
		log.marks = nil
		s.MarkOffset("in", st.partition, st.offset+1, "")
		if !reflect.DeepEqual(log.marks, st.want) {
			t.Errorf("after %d/%d is done: marked %q, want %q", st.partition, st.offset, log.marks, st.want)
		}
	}
}

// TestOffsetQueueCompacts: a long run of commits keeps the queue short.
func TestOffsetQueueCompacts(t *testing.T) {
	q := &offsetQueue{}
	for o := range int64(10000) {
		q.add(o)
		if next, move := q.done(o); !move || next != o+1 {
			t.Fatalf("done(%d) = %d, %v", o, next, move)
		}
	}
	if len(q.pending) > 600 {
		t.Errorf("%d entries kept after 10000 commits", len(q.pending))
	}
}
