// Package publish is sluice's HTTP publish gateway: the routes of the
// top-level publish list of pipelines.yaml, each a POST endpoint that takes
// JSON records (one object, an array, or NDJSON), validates every record
// against the route's Avro schema, encodes them through the schema registry
// in the Confluent wire format (codecs.Avro, as the pipelines' outputs do)
// and produces them with acks=all and an idempotent producer, answering
// only after the broker acknowledged them.
//
// A request is all or nothing as far as validation goes: one invalid record
// and nothing of the request is produced. The gateway serves beside the
// operations endpoints (internal/ops mounts it) and connects to Kafka
// through internal/kafkaconn, so TLS and SASL apply.
//
// It must not import the pipeline engine, the CLI, the ops endpoints, goka
// or sarama. The rules are checked by TestImportRules (arch_test.go).
package publish
