package dlq

import "github.com/twmb/franz-go/pkg/kgo"

// sourcePartitioner places a replayed record in the partition set on it
// (the source partition) when the target topic has that partition, so that
// a replay to the source topic lands where the original producer put it
// whatever its partitioner was. Otherwise the key places it (murmur2, as
// the Java client does).
type sourcePartitioner struct{}

func (sourcePartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	return sourceTopicPartitioner{byKey: kgo.StickyKeyPartitioner(nil).ForTopic(topic)}
}

type sourceTopicPartitioner struct{ byKey kgo.TopicPartitioner }

func (sourceTopicPartitioner) RequiresConsistency(*kgo.Record) bool { return true }

func (p sourceTopicPartitioner) Partition(r *kgo.Record, n int) int {
	if r.Partition >= 0 && int(r.Partition) < n {
		return int(r.Partition)
	}
	return p.byKey.Partition(r, n)
}
