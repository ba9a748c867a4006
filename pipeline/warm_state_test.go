package pipeline_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/pipeline"
)

// keptMessage is what the runtime logs (at debug level) when a partition of
// an in-memory table comes back to an instance that kept its store.
const keptMessage = "table partition kept since it was last owned: recovering from its offset"

// keptLog records the kept-store records and passes warnings on to next.
type keptLog struct {
	next slog.Handler
	mu   *sync.Mutex
	kept *[]keptStore
}

// keptStore is one kept-store record: the partition and the stored offset
// its recovery started after.
type keptStore struct {
	partition int32
	offset    int64
}

func newKeptLog(next slog.Handler) *keptLog {
	return &keptLog{next: next, mu: &sync.Mutex{}, kept: &[]keptStore{}}
}

func (l *keptLog) Enabled(context.Context, slog.Level) bool { return true }

func (l *keptLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == keptMessage {
		k := keptStore{partition: -1, offset: -2}
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "partition":
				k.partition = int32(a.Value.Int64())
			case "offset":
				k.offset = a.Value.Int64()
			}
			return true
		})
		l.mu.Lock()
		*l.kept = append(*l.kept, k)
		l.mu.Unlock()
	}
	if r.Level < slog.LevelWarn {
		return nil
	}
	return l.next.Handle(ctx, r)
}

func (l *keptLog) WithAttrs(as []slog.Attr) slog.Handler {
	return &keptLog{next: l.next.WithAttrs(as), mu: l.mu, kept: l.kept}
}

func (l *keptLog) WithGroup(name string) slog.Handler {
	return &keptLog{next: l.next.WithGroup(name), mu: l.mu, kept: l.kept}
}

// since returns the records logged after the first n.
func (l *keptLog) since(n int) []keptStore {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone((*l.kept)[n:])
}

func (l *keptLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(*l.kept)
}

// TestWarmStateCatchesUpWritesOfAnotherInstance: instance A recovers
// user-stats' in-memory table and owns every partition; B joins, takes some
// and writes their table while A does not own them; B stops and they come
// back to A, which kept their stores from before. A must recover them from
// its kept offset, B's writes included: the state and the last output of
// every user are exact over all the events.
func TestWarmStateCatchesUpWritesOfAnotherInstance(t *testing.T) {
	env := testkit.Env(t)
	cfg, names := referenceConfig(t, env)
	testkit.CreateTopic(t, env.Brokers(), names.input, 6, nil)
	v1, v2 := userEventCodecs(t, env.RegistryURL(), names.input)
	events := demo.GenerateEvents(testkit.Seed(t), 9000, 200, 0.02)
	records, err := demo.Records(names.input, events, v1, v2, 999999)
	if err != nil {
		t.Fatal(err)
	}
	only := []string{names.stats}
	// A first instance writes the table's first records and stops: the
	// session that makes a partition's first write (offset 0, which goka
	// confirms without setting the store's offset) keeps no store.
	first, stopFirst := startRuntime(t, cfg, pipeline.Options{Only: only})
	testkit.Produce(t, env.Brokers(), records[:3000])
	waitConsumed(t, first, names.stats, 3000, 2*time.Minute)
	stopFirst()

	logA := newKeptLog(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, stopA := startRuntime(t, cfg, pipeline.Options{Only: only, Logger: slog.New(logA)})
	defer stopA()
	testkit.Eventually(t, 2*time.Minute, "A to own every partition", func() bool {
		return len(ownedPartitions(a, names.stats)) == 6
	})

	b, stopB := startRuntime(t, cfg, pipeline.Options{Only: only})
	bParts := testkit.EventuallyValue(t, 2*time.Minute, "A and B to share the 6 partitions", func() ([]int32, bool) {
		pa, pb := ownedPartitions(a, names.stats), ownedPartitions(b, names.stats)
		all := append(slices.Clone(pa), pb...)
		slices.Sort(all)
		return pb, len(pa) > 0 && len(pb) > 0 && slices.Equal(slices.Compact(all), all) && len(all) == 6
	})
	testkit.Produce(t, env.Brokers(), records[3000:6000])
	testkit.WaitLagZero(t, env.Brokers(), names.statsGroup, names.input, 2*time.Minute)
	// Where B's writes end in each partition of the changelog.
	end := map[int32]int64{}
	for _, r := range testkit.ReadToEnd(t, env.Brokers(), names.statsGroup+"-table") {
		end[r.Partition] = max(end[r.Partition], r.Offset)
	}

	mark := logA.len()
	stopB()
	testkit.Eventually(t, 2*time.Minute, "A to own every partition again", func() bool {
		return len(ownedPartitions(a, names.stats)) == 6
	})
	testkit.Produce(t, env.Brokers(), records[6000:])
	testkit.WaitLagZero(t, env.Brokers(), names.statsGroup, names.input, 2*time.Minute)

	// B's partitions came back to A from the stores A kept, behind B's writes.
	kept := logA.since(mark)
	for _, p := range bParts {
		i := slices.IndexFunc(kept, func(k keptStore) bool { return k.partition == p })
		switch {
		case i < 0:
			t.Errorf("partition %d came back to A without its kept store (kept: %+v)", p, kept)
		case kept[i].offset >= end[p]:
			t.Errorf("partition %d came back to A at offset %d, not behind B's last write at %d: nothing to catch up", p, kept[i].offset, end[p])
		default:
			t.Logf("partition %d: A kept its store at offset %d, B wrote up to %d", p, kept[i].offset, end[p])
		}
	}
	want := testkit.ExpectUserStats(events)
	compareStats(t, "table", want, tableStates(t, a, names.stats, want))
	compareStats(t, "last output", want, lastOutputs(t, env.RegistryURL(), testkit.ReadToEnd(t, env.Brokers(), names.stats)))
}

// ownedPartitions returns the partitions of pipeline name that rt owns, once
// the pipeline is ready.
func ownedPartitions(rt *pipeline.Supervisor, name string) []int32 {
	for _, s := range rt.Status(context.Background()) {
		if s.Name == name && s.Ready {
			return s.Partitions
		}
	}
	return nil
}
