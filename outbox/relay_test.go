package outbox_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/outbox"
)

// childVar holds, in a relay subprocess (this test binary run again), the
// JSON of its childConfig.
const childVar = "SLUICE_OUTBOX_TEST_CHILD"

type childConfig struct {
	DSN, Table, Topic string
	Brokers           []string
	BatchSize         int
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(childVar); spec != "" {
		os.Exit(runChild(spec))
	}
	os.Exit(m.Run())
}

// runChild runs a slow relay until SIGTERM: it pauses after each claim, and
// it prints "acked <ids>" after the broker acknowledged each batch and then
// pauses before the rows are removed, so that the parent's SIGKILL lands
// between the two.
func runChild(spec string) int {
	var c childConfig
	if err := json.Unmarshal([]byte(spec), &c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	relay, err := outbox.New(outbox.Options{Config: jsonConfig(c.DSN, c.Table, c.Topic, c.BatchSize),
		Kafka: testkit.Kafka(c.Brokers), Partitions: 3, Replication: 1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	// A slow relay: the other one must not publish later rows of the
	// aggregates it claimed meanwhile.
	outbox.SetAfterClaim(relay, func() { time.Sleep(50 * time.Millisecond) })
	outbox.SetAfterProduce(relay, func(ids []string) {
		fmt.Printf("acked %s\n", strings.Join(ids, ","))
		time.Sleep(300 * time.Millisecond)
	})
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := relay.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// jsonConfig maps event type "order" to topic as JSON, batches of batch rows.
func jsonConfig(dsn, table, topic string, batch int) *outbox.Config {
	return &outbox.Config{
		DSN: dsn, Table: table, BatchSize: batch, PollInterval: 200 * time.Millisecond, Channel: table,
		After:      outbox.Delete,
		DeadLetter: topic + "-dlq",
		Columns: outbox.Columns{ID: "id", AggregateID: "aggregate_id", EventType: "event_type", Payload: "payload",
			CreatedAt: "created_at", Published: "published_at"},
		Events: map[string]*outbox.Event{"order": {Topic: topic, Codec: "json"}},
	}
}

// createTable creates the seed's outbox table (with published_at for
// `after: mark`) and the trigger that notifies channel at each insert.
func createTable(t *testing.T, pool *pgxpool.Pool, table string) {
	t.Helper()
	ddl := fmt.Sprintf(`
CREATE TABLE %[1]s (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  aggregate_id text NOT NULL,
  event_type   text NOT NULL,
  payload      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX %[1]s_order ON %[1]s (created_at, id);
CREATE FUNCTION %[1]s_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('%[1]s', ''); RETURN NULL; END $$;
CREATE TRIGGER %[1]s_notify AFTER INSERT ON %[1]s FOR EACH STATEMENT EXECUTE FUNCTION %[1]s_notify();`, table)
	if _, err := pool.Exec(t.Context(), ddl); err != nil {
		t.Fatalf("creating the outbox table: %v", err)
	}
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), fmt.Sprintf("DROP TABLE %[1]s; DROP FUNCTION %[1]s_notify()", table))
	})
}

func connect(t *testing.T, dsn string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatalf("connecting to PostgreSQL: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func randInt(n int) int {
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(v.Int64())
}

// written is a committed outbox row.
type written struct {
	agg string
	seq int
}

// writeRows writes want committed rows of event type "order" from writers
// concurrent transactions, each writer owning aggs aggregates and writing 1
// to 4 rows of one aggregate per transaction with consecutive seq numbers;
// about one transaction in ten is rolled back (its rows say "rolled_back").
// It returns the committed rows by id and how many rows were rolled back.
func writeRows(ctx context.Context, pool *pgxpool.Pool, table string, writers, aggs, want int) (map[string]written, int, error) {
	var (
		mu         sync.Mutex
		committed  = map[string]written{}
		rolledBack int
		wg         sync.WaitGroup
		errs       = make(chan error, writers)
	)
	// Rows of one transaction share created_at (now()): their ids, UUIDv7
	// and so increasing, keep their order, as the README advises.
	insert := fmt.Sprintf(`INSERT INTO %s (id, aggregate_id, event_type, payload) VALUES ($1, $2, 'order', $3) RETURNING id::text`, table)
	for w := range writers {
		wg.Go(func() {
			next := map[string]int{}
			for n := 0; n < want/writers; {
				agg := fmt.Sprintf("agg-%d-%d", w, randInt(aggs))
				rows := min(1+randInt(4), want/writers-n)
				rollback := randInt(10) == 0
				tx, err := pool.Begin(ctx)
				if err != nil {
					errs <- err
					return
				}
				var ids []string
				for i := range rows {
					payload, _ := json.Marshal(map[string]any{"agg": agg, "seq": next[agg] + i, "rolled_back": rollback})
					uid, err := uuid.NewV7()
					if err != nil {
						errs <- err
						return
					}
					var id string
					if err := tx.QueryRow(ctx, insert, uid.String(), agg, payload).Scan(&id); err != nil {
						_ = tx.Rollback(ctx)
						errs <- err
						return
					}
					ids = append(ids, id)
				}
				if rollback {
					if err := tx.Rollback(ctx); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					rolledBack += rows
					mu.Unlock()
					continue
				}
				if err := tx.Commit(ctx); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for i, id := range ids {
					committed[id] = written{agg: agg, seq: next[agg] + i}
				}
				mu.Unlock()
				next[agg] += rows
				n += rows
			}
		})
	}
	wg.Wait()
	close(errs)
	return committed, rolledBack, <-errs
}

// TestRelayTwoRelaysAndAKill: 10,000 rows written by concurrent transactions
// (some rolled back), relayed by two relays at once, one of them a
// subprocess killed with SIGKILL after the broker acknowledged a batch and
// before it removed the rows. At the end the table is empty, every committed
// row is in Kafka keyed by its aggregate with its id in sluice.outbox.id,
// each aggregate's rows in order, no rolled-back row, and the only
// duplicates are rows of the killed batch.
func TestRelayTwoRelaysAndAKill(t *testing.T) {
	dsn := testkit.Postgres(t)
	brokers := testkit.Brokers(t)
	pool := connect(t, dsn)
	table := strings.ReplaceAll(testkit.Unique("outbox"), "-", "_")
	createTable(t, pool, table)
	topic := testkit.Unique("outbox-orders")
	const batch, total = 100, 10000

	relayCtx, stopRelay := context.WithCancel(t.Context())
	defer stopRelay()
	relay, err := outbox.New(outbox.Options{Config: jsonConfig(dsn, table, topic, batch), Kafka: testkit.Kafka(brokers),
		Partitions: 3, Replication: 1})
	if err != nil {
		t.Fatal(err)
	}
	relayDone := make(chan error, 1)
	go func() { relayDone <- relay.Run(relayCtx) }()

	spec, _ := json.Marshal(childConfig{DSN: dsn, Table: table, Topic: topic, Brokers: brokers, BatchSize: batch})
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childVar+"="+string(spec))
	child.Stderr = os.Stderr
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	childDone := make(chan error, 1)
	acked := make(chan []string, 1000)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if ids, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
				acked <- strings.Split(ids, ",")
			}
		}
		childDone <- child.Wait()
	}()
	t.Cleanup(func() {
		if child.ProcessState == nil {
			_ = child.Process.Kill()
		}
	})

	type writeResult struct {
		committed  map[string]written
		rolledBack int
		err        error
	}
	writes := make(chan writeResult, 1)
	go func() {
		c, rb, err := writeRows(t.Context(), pool, table, 8, 25, total)
		writes <- writeResult{c, rb, err}
	}()

	// Kill the child relay at its third acknowledged batch: it is then
	// paused between the broker's acknowledgement and its commit.
	var killed []string
	for n := 0; n < 3; n++ {
		select {
		case killed = <-acked:
		case err := <-childDone:
			t.Fatalf("the child relay exited before it was killed: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("the child relay published no batch in 30s")
		}
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := testkit.Await(t, 10*time.Second, "the killed relay to exit", childDone); err == nil {
		t.Fatal("the child relay exited 0 after SIGKILL")
	}

	res := testkit.Await(t, time.Minute, "the writers", writes)
	if res.err != nil {
		t.Fatalf("writing rows: %v", res.err)
	}
	if len(res.committed) != total || res.rolledBack == 0 {
		t.Fatalf("wrote %d committed rows (want %d) and %d rolled-back ones (want some)", len(res.committed), total, res.rolledBack)
	}
	testkit.EventuallyValue(t, time.Minute, "the relay to empty the outbox table", func() (int, bool) {
		var n int
		if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n, n == 0
	})
	stopRelay()
	if err := testkit.Await(t, 30*time.Second, "the relay to stop", relayDone); err != nil {
		t.Fatalf("relay: %v", err)
	}

	// The rows of the killed batch were acknowledged, not removed: they are
	// all in Kafka twice, and nothing else is.
	want := total + len(killed)
	records := testkit.ReadAll(t, brokers, topic, want, time.Minute)
	if end := endOffsets(t, brokers, topic); end != int64(want) {
		t.Errorf("topic %s holds %d records, want %d committed rows + %d of the killed batch", topic, end, total, len(killed))
	}
	killedSet := map[string]bool{}
	for _, id := range killed {
		killedSet[id] = true
	}
	seen := map[string]int{}
	lastSeq := map[string]int{}
	for _, r := range records {
		id, ok := testkit.Header(r, outbox.HeaderID)
		if !ok {
			t.Fatalf("record at %d/%d has no %s header", r.Partition, r.Offset, outbox.HeaderID)
		}
		var p struct {
			Agg        string `json:"agg"`
			Seq        int    `json:"seq"`
			RolledBack bool   `json:"rolled_back"`
		}
		if err := json.Unmarshal(r.Value, &p); err != nil {
			t.Fatalf("record %s: %v", id, err)
		}
		row, ok := res.committed[id]
		switch {
		case p.RolledBack || !ok:
			t.Fatalf("record %s (%s #%d, rolled back %v) is not a committed row", id, p.Agg, p.Seq, p.RolledBack)
		case row.agg != p.Agg || row.seq != p.Seq || string(r.Key) != row.agg:
			t.Fatalf("record %s: key %s, payload %s #%d; the row is %s #%d", id, r.Key, p.Agg, p.Seq, row.agg, row.seq)
		}
		seen[id]++
		if seen[id] > 1 {
			if !killedSet[id] {
				t.Errorf("row %s (%s #%d) published twice but was not in the killed batch", id, p.Agg, p.Seq)
			}
			continue
		}
		// First publications of an aggregate's rows come in seq order.
		last, ok := lastSeq[p.Agg]
		if !ok {
			last = -1
		}
		if p.Seq != last+1 {
			t.Errorf("aggregate %s: #%d published after #%d (partition %d offset %d)", p.Agg, p.Seq, last, r.Partition, r.Offset)
		}
		lastSeq[p.Agg] = p.Seq
	}
	for id, row := range res.committed {
		if seen[id] == 0 {
			t.Errorf("committed row %s (%s #%d) is not in Kafka", id, row.agg, row.seq)
		}
	}
	for _, id := range killed {
		if seen[id] != 2 {
			t.Errorf("row %s of the killed batch is in Kafka %d times, want 2", id, seen[id])
		}
	}
	t.Logf("%d committed rows, %d rolled back, %d duplicates from the killed batch", total, res.rolledBack, len(killed))
}

// endOffsets sums the end offsets of topic's partitions.
func endOffsets(t *testing.T, brokers []string, topic string) int64 {
	t.Helper()
	ends, err := testkit.Admin(t, brokers).ListEndOffsets(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}
