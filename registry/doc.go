// Package registry is a Confluent-compatible schema registry server.
//
// A Server serves the Confluent Schema Registry REST API (subjects, versions,
// ids, lookup, compatibility checks, global and per-subject configs, soft and
// permanent deletes) over a Store, so that Confluent clients (franz-go's sr,
// which sluice's own registry/regclient wraps, and serializers in other
// languages) work against it unchanged.
// It stores and checks schemas of the three types Confluent serves: AVRO
// (hamba/avro), JSON (JSON Schema) and PROTOBUF (.proto text), the latter two
// parsed by internal/schemafmt, which the codecs share. An invalid schema is
// refused with error code 42201 and the parser's message.
//
// Two stores are provided:
//
//   - NewMemoryStore keeps everything in process memory (tests, dev);
//   - NewKafkaStore keeps it in the compacted single-partition `_schemas` topic
//     in Confluent's own key/value format, so a restarted registry (or a
//     Confluent Schema Registry pointed at the same topic) serves the same ids,
//     versions and configs. A write is visible to reads as soon as it returns.
//
// Two registrations are the same schema (same id, no new version) when they
// have the same type, the same references and the same normal form: for JSON
// Schema the document with sorted keys and no whitespace, for Protobuf the
// compiled file descriptor (comments and layout do not matter); for Avro, when
// they parse to the same Avro schema: names are compared as full names, attribute
// order and whitespace do not matter, but defaults, doc, aliases and logical
// types do (see avroNormalForm). Each stored id is parsed once, when it is
// stored, and registration looks versions up by index, so its cost does not
// grow with the number of versions in the subject.
//
// A Server bounds what a client may send: schemas of at most
// DefaultMaxSchemaBytes (WithMaxSchemaBytes), a request body within 30s
// (WithBodyReadTimeout), and, under ListenAndServe, headers within 10s and
// keep-alive idling for 60s; error messages quote at most a few hundred bytes
// of any input.
//
// A Server is open by default. WithUsers makes it require HTTP basic auth
// of the accounts ParseUsers reads (user:password:role, the password plain or
// a bcrypt hash, compared in constant time): no or wrong credentials get 401
// with a WWW-Authenticate challenge, and a read-only user gets 403 for
// anything but reads, lookups and compatibility checks, each with a
// registry JSON error body (40101, 40301). ListenAndServeTLS serves https.
//
// Avro compatibility is decided by hamba/avro's SchemaCompatibility, created
// fresh for every check (a reused checker caches verdicts by canonical form,
// which ignores defaults and aliases, and so answers wrongly). JSON Schema and
// Protobuf compatibility follow Confluent's diff rules (compat_json.go,
// compat_protobuf.go): every difference between writer and reader gets
// Confluent's difference type, and a change is compatible when all of them are
// among Confluent's compatible ones.
//
// References (`{name, subject, version}`) are resolved for all three types:
// by full name (Avro), $ref URL (JSON Schema) or import path (Protobuf). A
// version that a live schema references cannot be deleted (42206).
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
