// Package registry is a Confluent-compatible schema registry server.
//
// A Server serves the Confluent Schema Registry REST API (subjects, versions,
// ids, lookup, compatibility checks, global and per-subject configs, soft and
// permanent deletes) over a Store, so that Confluent clients (franz-go's sr,
// which sluice's own registry/regclient wraps, and serializers in other
// languages) work against it unchanged.
// It stores and checks AVRO schemas; JSON and PROTOBUF registrations are
// refused with error code 42201.
//
// Two stores are provided:
//
//   - NewMemoryStore keeps everything in process memory (tests, dev);
//   - NewKafkaStore keeps it in the compacted single-partition `_schemas` topic
//     in Confluent's own key/value format, so a restarted registry (or a
//     Confluent Schema Registry pointed at the same topic) serves the same ids,
//     versions and configs. A write is visible to reads as soon as it returns.
//
// Compatibility is decided by hamba/avro's SchemaCompatibility, created fresh
// for every check (a reused checker caches verdicts by canonical form, which
// ignores defaults and aliases, and so answers wrongly).
//
// Typical use:
//
//	store, err := registry.NewKafkaStore(ctx, registry.KafkaStoreConfig{Brokers: brokers})
//	...
//	defer store.Close()
//	err = registry.ListenAndServe(ctx, "127.0.0.1:8081", registry.NewServer(store), nil)
//
// The server owns the REST API and the stores; it must not import codecs,
// pipeline, the client package registry/regclient, goka or sarama.
// The rules are checked by TestImportRules (arch_test.go).
package registry
