package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/kafkaconn"
)

// Header names of the records a relay writes.
const (
	// HeaderID carries the outbox row's id: consumers deduplicate by it.
	HeaderID        = "sluice.outbox.id"
	HeaderEventType = "sluice.outbox.event_type"
	// HeaderTable names the outbox table on a poison row's dead letter.
	HeaderTable = "sluice.outbox.table"
)

// batchTimeout bounds one batch: claim, produce, delete, commit. A batch that
// runs out of it rolls back and its rows are claimed again.
const batchTimeout = 30 * time.Second

// Options are what a relay needs beside its Config.
type Options struct {
	Config *Config
	// Kafka connects the producer and the admin client.
	Kafka kafkaconn.Config
	// Registry registers the Avro schemas of the events; it may be nil when
	// every event is JSON.
	Registry        codecs.Registry
	Schemas         *codecs.Schemas
	SubjectStrategy codecs.SubjectStrategy
	// Partitions and Replication are those of the topics the relay creates
	// when they are missing.
	Partitions  int
	Replication int
	Metrics     *Metrics
	Logger      *slog.Logger
}

// Relay publishes the rows of one outbox table. Run it once per process;
// several processes divide the aggregates between them.
type Relay struct {
	cfg     *Config
	opts    Options
	log     *slog.Logger
	metrics *Metrics
	codecs  map[string]*codecs.Avro // by event type, Avro events only
	sql     statements
	// afterProduce, when set, runs after the broker acknowledged a batch and
	// before its rows are removed (tests: a kill at the worst moment).
	afterProduce func(ids []string)
	// afterClaim, when set, runs after a batch was claimed (tests: a slow
	// relay that another one must not overtake).
	afterClaim func()
}

// New checks opts and builds a relay; it does no I/O.
func New(opts Options) (*Relay, error) {
	cfg := opts.Config
	if cfg == nil {
		return nil, errors.New("outbox: no configuration")
	}
	if cfg.DSN == "" {
		return nil, errors.New("outbox: no PostgreSQL DSN (outbox.dsn or outbox.dsn_file)")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics()
	}
	if opts.Schemas == nil {
		opts.Schemas = codecs.NewSchemas()
	}
	r := &Relay{cfg: cfg, opts: opts, log: opts.Logger.With("outbox", cfg.Table), metrics: opts.Metrics,
		codecs: map[string]*codecs.Avro{}, sql: newStatements(cfg)}
	for name, e := range cfg.Events {
		if e.Codec != "avro" {
			continue
		}
		if opts.Registry == nil {
			return nil, fmt.Errorf("outbox: event %s has an Avro schema but no schema registry is configured", name)
		}
		c, err := codecs.NewAvro(opts.Registry, opts.Schemas, e.Schema, codecs.WithSubject(e.Topic, opts.SubjectStrategy))
		if err != nil {
			return nil, fmt.Errorf("outbox: event %s: %w", name, err)
		}
		r.codecs[name] = c
	}
	return r, nil
}

// statements are the SQL a relay runs, with the configured names quoted in.
type statements struct {
	candidates, claim, done, pending string
	lockKey                          string
}

func newStatements(c *Config) statements {
	col := c.Columns
	pending := "TRUE"
	if c.After == Mark {
		pending = col.Published + " IS NULL"
	}
	var done string
	if c.After == Mark {
		// id = ANY($1) lets PostgreSQL type $1 as the id column's array
		// (uuid[]), so that the primary key's index finds the rows.
		done = fmt.Sprintf("UPDATE %s SET %s = now() WHERE %s = ANY($1)", c.Table, col.Published, col.ID)
	} else {
		done = fmt.Sprintf("DELETE FROM %s WHERE %s = ANY($1)", c.Table, col.ID)
	}
	return statements{
		// The aggregates of the oldest pending rows, oldest first.
		candidates: fmt.Sprintf(`SELECT %[2]s::text FROM %[1]s WHERE %[5]s ORDER BY %[3]s, %[4]s LIMIT $1`,
			c.Table, col.AggregateID, col.CreatedAt, col.ID, pending),
		// The oldest pending rows of the aggregates this relay locked.
		claim: fmt.Sprintf(`SELECT %[2]s::text, %[3]s::text, %[4]s::text, %[5]s::text FROM %[1]s
WHERE %[7]s AND %[3]s::text = ANY($1::text[]) ORDER BY %[6]s, %[2]s LIMIT $2 FOR UPDATE SKIP LOCKED`,
			c.Table, col.ID, col.AggregateID, col.EventType, col.Payload, col.CreatedAt, pending),
		done:    done,
		pending: fmt.Sprintf("SELECT count(*) FROM %s WHERE %s", c.Table, pending),
		// The first key of the advisory locks: the table's name, so that two
		// outbox tables (or the application's own advisory locks) do not
		// share aggregate locks by accident.
		lockKey: c.Table,
	}
}

// row is one claimed outbox row.
type row struct {
	id, aggregate, eventType, payload string
}

// Run connects to PostgreSQL and Kafka and relays rows until ctx ends; the
// batch in flight then finishes (or rolls back) before Run returns nil. It
// fails when it cannot connect, register the schemas or create the topics
// at the start (a wrong DSN or a database that is down stops sluice run);
// later failures are logged and retried with a backoff.
func (r *Relay) Run(ctx context.Context) error {
	err := r.run(ctx)
	if ctx.Err() != nil {
		return nil // stopped, maybe while starting
	}
	return err
}

func (r *Relay) run(ctx context.Context) error {
	pool, err := pgxpool.New(ctx, r.cfg.DSN)
	if err != nil {
		return fmt.Errorf("outbox: connecting to PostgreSQL: %w", err)
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		return fmt.Errorf("outbox: connecting to PostgreSQL: %w", err)
	}
	client, err := r.opts.Kafka.NewClient(
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.ProducerLinger(0),
		kgo.RecordDeliveryTimeout(batchTimeout),
	)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	defer client.Close()
	if err := r.prepare(ctx); err != nil {
		return err
	}
	wake := make(chan struct{}, 1)
	listenCtx, stopListen := context.WithCancel(ctx)
	listenDone := make(chan struct{})
	go func() {
		defer close(listenDone)
		r.listen(listenCtx, wake)
	}()
	defer func() {
		stopListen()
		<-listenDone
	}()
	r.log.Info("outbox relay started", "table", r.cfg.Table, "events", r.cfg.EventTypes(), "after", r.cfg.After,
		"notify_channel", r.cfg.Channel, "poll_interval", r.cfg.PollInterval)
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		n, err := r.batch(ctx, pool, client)
		switch {
		case err != nil && ctx.Err() == nil:
			backoff = min(max(2*backoff, 100*time.Millisecond), 10*time.Second)
			r.log.Warn("outbox batch failed; retrying", "error", err, "backoff", backoff)
			sleep(ctx, backoff, nil)
			continue
		case err != nil:
			continue
		}
		backoff = 0
		if n > 0 {
			continue // there may be more: claim again at once
		}
		r.updatePending(ctx, pool)
		sleep(ctx, r.cfg.PollInterval, wake)
	}
	r.log.Info("outbox relay stopped")
	return nil
}

// prepare registers the Avro schemas and creates missing topics.
func (r *Relay) prepare(ctx context.Context) error {
	for name, c := range r.codecs {
		if _, err := c.Register(ctx); err != nil {
			return fmt.Errorf("outbox: registering the schema of event %s: %w", name, err)
		}
	}
	adm, err := r.opts.Kafka.NewAdmin()
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	defer adm.Close()
	partitions, replication := max(r.opts.Partitions, 1), max(r.opts.Replication, 1)
	topics := map[string]bool{r.cfg.DeadLetter: true}
	for _, e := range r.cfg.Events {
		topics[e.Topic] = true
	}
	for t := range topics {
		if err := kafkaconn.CreateTopic(ctx, adm, t, int32(partitions), int16(replication), nil); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
	}
	return nil
}

// sleep waits d, or until wake has a value, or ctx ends.
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-wake:
	}
}

// batch claims, publishes and removes one batch; it returns how many rows
// it handled. It runs to its end even when ctx ends meanwhile (bounded by
// batchTimeout), so that a graceful stop does not throw acknowledged work
// away.
func (r *Relay) batch(ctx context.Context, pool *pgxpool.Pool, client *kgo.Client) (int, error) {
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	start := time.Now()
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), batchTimeout)
	defer cancel()
	tx, err := pool.Begin(bctx)
	if err != nil {
		return 0, fmt.Errorf("beginning a transaction: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(bctx)) //nolint:errcheck // after Commit it is a no-op
	rows, err := r.claim(bctx, tx)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	if r.afterClaim != nil {
		r.afterClaim()
	}
	records := make([]*kgo.Record, len(rows))
	published, poisoned := 0, 0
	for i, row := range rows {
		records[i] = r.record(bctx, row)
		if records[i].Topic == r.cfg.DeadLetter {
			poisoned++
		} else {
			published++
		}
	}
	if err := client.ProduceSync(bctx, records...).FirstErr(); err != nil {
		return 0, fmt.Errorf("producing %d rows: %w", len(records), err)
	}
	ids := make([]string, len(rows))
	for i, row := range rows {
		ids[i] = row.id
	}
	if r.afterProduce != nil {
		r.afterProduce(ids)
	}
	if _, err := tx.Exec(bctx, r.sql.done, ids); err != nil {
		return 0, fmt.Errorf("removing %d published rows: %w", len(ids), err)
	}
	if err := tx.Commit(bctx); err != nil {
		return 0, fmt.Errorf("committing %d published rows: %w", len(ids), err)
	}
	r.metrics.published.Add(float64(published))
	r.metrics.deadLettered.Add(float64(poisoned))
	r.metrics.batchDuration.Observe(time.Since(start).Seconds())
	return len(rows), nil
}

// candidateFactor is how many times batch_size pending rows a relay looks at
// for aggregates to lock: the first ones may be held by other relays.
const candidateFactor = 4

// claim locks the aggregates of the oldest pending rows that no other relay
// holds, then the oldest rows of those aggregates (see the package doc).
func (r *Relay) claim(ctx context.Context, tx pgx.Tx) ([]row, error) {
	rs, err := tx.Query(ctx, r.sql.candidates, candidateFactor*r.cfg.BatchSize)
	if err != nil {
		return nil, fmt.Errorf("reading pending rows: %w", err)
	}
	aggs, err := pgx.CollectRows(rs, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("reading pending rows: %w", err)
	}
	// As many aggregates as the oldest batch_size rows have: about one
	// batch's worth, and a bound on the advisory locks a batch holds.
	var candidates []string
	seen, want := map[string]bool{}, 0
	for i, agg := range aggs {
		if !seen[agg] {
			seen[agg] = true
			candidates = append(candidates, agg)
			if i < r.cfg.BatchSize {
				want++
			}
		}
	}
	if len(candidates) == 0 {
		return nil, nil
	}
	// The CTE keeps the candidates in order and LIMIT stops locking once it
	// has want of them, so that a second relay finds the later ones free.
	rs, err = tx.Query(ctx, `WITH c AS MATERIALIZED (SELECT a FROM unnest($1::text[]) AS a)
SELECT a FROM c WHERE pg_try_advisory_xact_lock(hashtext($2), hashtext(a)) LIMIT $3`,
		candidates, r.sql.lockKey, want)
	if err != nil {
		return nil, fmt.Errorf("locking aggregates: %w", err)
	}
	locked, err := pgx.CollectRows(rs, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("locking aggregates: %w", err)
	}
	if len(locked) == 0 {
		return nil, nil
	}
	rs, err = tx.Query(ctx, r.sql.claim, locked, r.cfg.BatchSize)
	if err != nil {
		return nil, fmt.Errorf("claiming rows: %w", err)
	}
	var out []row
	for rs.Next() {
		var x row
		if err := rs.Scan(&x.id, &x.aggregate, &x.eventType, &x.payload); err != nil {
			rs.Close()
			return nil, fmt.Errorf("claiming rows: %w", err)
		}
		out = append(out, x)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("claiming rows: %w", err)
	}
	return out, nil
}

// record returns the Kafka record of row: on its event's topic, or on the
// dead-letter topic when the row is poison.
func (r *Relay) record(ctx context.Context, x row) *kgo.Record {
	headers := []kgo.RecordHeader{{Key: HeaderID, Value: []byte(x.id)}, {Key: HeaderEventType, Value: []byte(x.eventType)}}
	value, err := r.encode(ctx, x)
	if err == nil {
		return &kgo.Record{Topic: r.cfg.Events[x.eventType].Topic, Key: []byte(x.aggregate), Value: value, Headers: headers}
	}
	r.log.Warn("outbox row is poison: dead-lettered", "id", x.id, "event_type", x.eventType, "error", err)
	headers = append(headers,
		kgo.RecordHeader{Key: deadletter.HeaderStage, Value: []byte(deadletter.StageEncode)},
		kgo.RecordHeader{Key: deadletter.HeaderKind, Value: []byte(deadletter.KindPoison)},
		kgo.RecordHeader{Key: deadletter.HeaderMessage, Value: []byte(err.Error())},
		kgo.RecordHeader{Key: HeaderTable, Value: []byte(r.cfg.Table)},
	)
	return &kgo.Record{Topic: r.cfg.DeadLetter, Key: []byte(x.aggregate), Value: []byte(x.payload), Headers: headers}
}

// encode returns the value of row's record; an error means the row is poison.
func (r *Relay) encode(ctx context.Context, x row) ([]byte, error) {
	e, ok := r.cfg.Events[x.eventType]
	if !ok {
		return nil, fmt.Errorf("unknown event type %q (outbox.events maps %s)", x.eventType, strings.Join(r.cfg.EventTypes(), ", "))
	}
	v, err := codecs.JSON{}.Decode([]byte(x.payload))
	if err != nil {
		return nil, fmt.Errorf("payload is not JSON: %w", err)
	}
	c, ok := r.codecs[x.eventType]
	if !ok {
		return []byte(x.payload), nil
	}
	b, err := c.EncodeContext(ctx, v)
	if err != nil {
		return nil, fmt.Errorf("payload does not fit %s: %w", e.SchemaFile, err)
	}
	return b, nil
}

// updatePending sets the pending gauge; a failure only leaves it stale.
func (r *Relay) updatePending(ctx context.Context, pool *pgxpool.Pool) {
	var n int64
	if err := pool.QueryRow(ctx, r.sql.pending).Scan(&n); err == nil {
		r.metrics.pending.Set(float64(n))
	}
}

// listen LISTENs on the channel on a connection of its own and signals wake
// at each notification, reconnecting after failures; polling covers the
// gaps.
func (r *Relay) listen(ctx context.Context, wake chan<- struct{}) {
	if r.cfg.Channel == "" {
		return
	}
	for ctx.Err() == nil {
		err := r.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		r.log.Warn("outbox LISTEN failed; polling until it reconnects", "channel", r.cfg.Channel, "error", err)
		sleep(ctx, 5*time.Second, nil)
	}
}

func (r *Relay) listenOnce(ctx context.Context, wake chan<- struct{}) error {
	conn, err := pgx.Connect(ctx, r.cfg.DSN)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{r.cfg.Channel}.Sanitize()); err != nil {
		return err
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}
