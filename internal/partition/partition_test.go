package partition_test

import (
	"fmt"
	"hash/crc32"
	"strconv"
	"testing"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/partition"
)

// Kafka's own test vectors for Utils.murmur2
// (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java).
var javaMurmur2 = map[string]int32{
	"21":                         -973932308,
	"foobar":                     -790332482,
	"a-little-bit-long-string":   -985981536,
	"a-little-bit-longer-string": -1486304829,
	"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
	"abc": 479470107,
}

func TestMurmur2MatchesJava(t *testing.T) {
	for in, want := range javaMurmur2 {
		if got := int32(partition.Murmur2([]byte(in))); got != want {
			t.Errorf("Murmur2(%q) = %d, want %d", in, got, want)
		}
	}
}

// javaPartition is the Java client's partition for a keyed record:
// Utils.toPositive(Utils.murmur2(key)) % n.
func javaPartition(key string, n int) int {
	return int(partition.Murmur2([]byte(key))&0x7fffffff) % n
}

func TestKgoDefaultPartitionerIsJavas(t *testing.T) {
	// kgo's default partitioner hashes keys with its own murmur2; it must agree
	// with Java's placement (and so with NewPartitioner(murmur2)).
	kgoDefault := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	ours, err := partition.NewPartitioner(partition.Murmur2Name)
	if err != nil {
		t.Fatal(err)
	}
	oursT := ours.ForTopic("t").(kgo.TopicBackupPartitioner)
	for i := range 2000 {
		key := []byte("user-" + strconv.Itoa(i))
		for _, n := range []int{1, 3, 8, 10, 64} {
			r := &kgo.Record{Key: key}
			want := javaPartition(string(key), n)
			if got := kgoDefault.Partition(r, n); got != want {
				t.Fatalf("kgo default partition(%s, %d) = %d, Java %d", key, n, got, want)
			}
			if got := oursT.PartitionByBackup(r, n, nil); got != want {
				t.Fatalf("murmur2 partition(%s, %d) = %d, Java %d", key, n, got, want)
			}
		}
	}
}

// TestHash32PlacesLikeKeyHasher: sarama's custom hash partitioner and goka's
// views, given Hash32, put every key where the named client would.
func TestHash32PlacesLikeKeyHasher(t *testing.T) {
	for _, name := range []string{partition.Murmur2Name, partition.FNV1aName, partition.CRC32Name} {
		want, err := partition.KeyHasher(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int32{1, 3, 6, 8, 10, 64} {
			newHash, err := partition.Hash32(name, int(n))
			if err != nil {
				t.Fatal(err)
			}
			sp := sarama.NewCustomHashPartitioner(newHash)("t")
			for i := range 2000 {
				key := "user-" + strconv.Itoa(i)
				got, err := sp.Partition(&sarama.ProducerMessage{Key: sarama.StringEncoder(key)}, n)
				if err != nil {
					t.Fatal(err)
				}
				if w := want([]byte(key), int(n)); int(got) != w {
					t.Fatalf("%s: sarama puts %s on %d of %d, the client on %d", name, key, got, n, w)
				}
				// goka's views hash the same way: |int32(Sum32)| % n.
				h := newHash()
				h.Write([]byte(key))
				g := int32(h.Sum32())
				if g < 0 {
					g = -g
				}
				if int(g%n) != want([]byte(key), int(n)) {
					t.Fatalf("%s: goka puts %s on %d of %d", name, key, g%n, n)
				}
			}
		}
	}
	crc := partition.KeyHasher
	h, _ := crc(partition.CRC32Name)
	if got, want := h([]byte("user-1"), 6), int(crc32.ChecksumIEEE([]byte("user-1"))%6); got != want {
		t.Errorf("crc32 placement %d, want librdkafka's %d", got, want)
	}
	if _, err := partition.Hash32(partition.CRC32Name, 0); err == nil {
		t.Error("Hash32(crc32) without a partition count succeeded")
	}
	if _, err := partition.Hash32("md5", 3); err == nil || partition.Valid("md5") {
		t.Error("an unknown partitioner was accepted")
	}
}

func ExampleKeyHasher() {
	// The partition the Java client (and sluice's default) picks for key
	// "user-1" on an 8-partition topic.
	h, err := partition.KeyHasher(partition.Murmur2Name)
	if err != nil {
		panic(err)
	}
	fmt.Println(h([]byte("user-1"), 8))
	// Output: 4
}
