// Package outbox relays a transactional outbox table from PostgreSQL to
// Kafka: the application writes its business change and an outbox row in one
// database transaction, and the relay publishes each committed row exactly
// as the `outbox:` section of pipelines.yaml maps its event type (topic, Avro
// schema through the registry or JSON), keyed by the row's aggregate id and
// carrying the row id in the header sluice.outbox.id, then deletes (or marks)
// the row in the transaction that claimed it, after the broker acknowledged.
//
// Ordering: rows are claimed per aggregate. A relay first try-locks the
// aggregates of the oldest pending rows with transaction-scoped advisory
// locks (pg_try_advisory_xact_lock(hashtext(table), hashtext(aggregate_id))),
// then claims, FOR UPDATE SKIP LOCKED, the oldest rows of the aggregates it
// locked, in (created_at, id) order. Row locks alone are not enough: with
// SKIP LOCKED, a second relay would skip the row a first relay holds and
// publish the next row of the same aggregate before it. Because a relay only
// ever row-locks rows of aggregates it holds the advisory lock of, and both
// kinds of lock end with its transaction, SKIP LOCKED never skips a row of
// an aggregate the relay holds, and each aggregate's rows reach Kafka in
// order, whichever relay publishes them. Several relays (processes) can run
// at once; they divide the aggregates between them.
//
// Delivery is at least once: a relay killed after the broker acknowledged
// but before its commit leaves the rows in the table, and the next claim
// publishes them again with the same sluice.outbox.id, by which consumers
// deduplicate. A row that can never be published (unknown event type, a
// payload that is not JSON or does not fit the schema) is a poison row: it
// goes to the dead-letter topic with its payload unchanged and sluice.*
// headers saying why, and is then removed like a published row, so it never
// blocks the table.
//
// LISTEN/NOTIFY on a channel (a trigger on the table, or pg_notify in the
// writer's transaction) wakes an idle relay at once; polling at the
// configured interval remains the fallback.
//
// It depends on pgx, franz-go (through internal/kafkaconn), the codecs and
// processors/config, never on the pipeline engine, goka or sarama.
// The rules are checked by TestImportRules (arch_test.go).
package outbox
