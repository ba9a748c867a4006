package dev.sluice.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The reference user-stats pipeline on Kafka Streams, the Java contestant of
 * sluice's benchmark (go run ./bench): Confluent-framed Avro UserEvents in
 * (any registered writer schema, resolved to the v2 reader), heartbeats
 * filtered, negative amounts and undecodable values dead-lettered, per-user
 * totals in a RocksDB store as Avro, each new total emitted as a framed
 * UserStats.
 *
 * <p>Arguments: brokers registryURL input output deadLetter applicationId
 * stateDir eventSchema statsSchema (the last two are the texts of
 * user_event.avsc and user_stats.avsc).
 */
public final class UserStatsApp {
    private static final String STORE = "user-stats";

    public static void main(String[] args) throws Exception {
        if (args.length != 9) {
            System.err.println("usage: UserStatsApp brokers registryURL input output deadLetter applicationId stateDir eventSchema statsSchema");
            System.exit(2);
        }
        String brokers = args[0], registry = args[1], input = args[2], output = args[3], dlq = args[4];
        Schema reader = new Schema.Parser().parse(args[7]);
        Schema stats = new Schema.Parser().parse(args[8]);
        Registry reg = new Registry(registry);
        int statsId = reg.register(output + "-value", args[8]);

        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, args[5]);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        p.put(StreamsConfig.STATE_DIR_CONFIG, args[6]);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Runtime.getRuntime().availableProcessors());
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        // The Go contestants linger 5 ms; Kafka Streams' default is 100 ms.
        p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 5);

        Topology t = new Topology();
        t.addSource("in", Serdes.String().deserializer(), Serdes.ByteArray().deserializer(), input);
        t.addProcessor("stats", () -> new StatsProcessor(reg, reader, stats, statsId), "in");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(), new AvroSerde(stats)), "stats");
        t.addSink("out", output, Serdes.String().serializer(), Serdes.ByteArray().serializer(), "stats");
        t.addSink("dlq", dlq, Serdes.String().serializer(), Serdes.ByteArray().serializer(), "stats");

        KafkaStreams streams = new KafkaStreams(t, p);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            streams.close(Duration.ofSeconds(20));
            stopped.countDown();
        }));
        streams.setUncaughtExceptionHandler(e -> {
            e.printStackTrace();
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_APPLICATION;
        });
        streams.start();
        stopped.await();
    }

    /** Folds each event into its user's totals. */
    static final class StatsProcessor implements Processor<String, byte[], String, byte[]> {
        private final Registry reg;
        private final Schema reader, stats;
        private final byte[] header = new byte[5];
        private final Map<Integer, GenericDatumReader<GenericRecord>> readers = new HashMap<>();
        private final GenericDatumWriter<GenericRecord> writer;
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream(128);
        private BinaryDecoder decoder;
        private BinaryEncoder encoder;
        private ProcessorContext<String, byte[]> ctx;
        private KeyValueStore<String, GenericRecord> store;

        StatsProcessor(Registry reg, Schema reader, Schema stats, int statsId) {
            this.reg = reg;
            this.reader = reader;
            this.stats = stats;
            this.writer = new GenericDatumWriter<>(stats);
            ByteBuffer.wrap(header).put((byte) 0).putInt(statsId);
        }

        @Override
        public void init(ProcessorContext<String, byte[]> context) {
            ctx = context;
            store = context.getStateStore(STORE);
        }

        @Override
        public void process(Record<String, byte[]> rec) {
            GenericRecord e = decode(rec.value());
            if (e == null) {
                ctx.forward(rec, "dlq");
                return;
            }
            String type = e.get("event_type").toString();
            if (type.equals("heartbeat")) {
                return;
            }
            double amount = (Double) e.get("amount");
            if (amount < 0) {
                ctx.forward(rec, "dlq");
                return;
            }
            GenericRecord s = store.get(rec.key());
            if (s == null) {
                s = new GenericData.Record(stats);
                s.put("events", 0L);
                s.put("purchases", 0L);
                s.put("total_spent", 0.0);
            }
            s.put("user_id", rec.key());
            s.put("events", (Long) s.get("events") + 1);
            if (type.equals("purchase")) {
                s.put("purchases", (Long) s.get("purchases") + 1);
                s.put("total_spent", (Double) s.get("total_spent") + amount);
            }
            s.put("last_event_type", type);
            Object country = e.get("country");
            if (country != null) {
                s.put("last_country", country.toString());
            }
            s.put("last_ts", e.get("ts"));
            store.put(rec.key(), s);
            // Stamped with the time it is produced, as the Go clients stamp
            // theirs (Kafka Streams would carry the input's timestamp on): the
            // harness times the drain by the outputs' timestamps.
            ctx.forward(rec.withValue(encode(s)).withTimestamp(System.currentTimeMillis()), "out");
        }

        /** Decodes a framed UserEvent, or returns null for poison. */
        private GenericRecord decode(byte[] frame) {
            if (frame == null || frame.length < 5 || frame[0] != 0) {
                return null;
            }
            int id = ByteBuffer.wrap(frame, 1, 4).getInt();
            GenericDatumReader<GenericRecord> r = readers.get(id);
            if (r == null) {
                String text = reg.schema(id);
                if (text == null) {
                    return null; // an id the registry does not know
                }
                r = new GenericDatumReader<>(new Schema.Parser().parse(text), reader);
                readers.put(id, r);
            }
            try {
                decoder = DecoderFactory.get().binaryDecoder(frame, 5, frame.length - 5, decoder);
                return r.read(null, decoder);
            } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException e) {
                return null;
            }
        }

        private byte[] encode(GenericRecord s) {
            buf.reset();
            buf.writeBytes(header);
            encoder = EncoderFactory.get().binaryEncoder(buf, encoder);
            try {
                writer.write(s, encoder);
                encoder.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return buf.toByteArray();
        }
    }

    /** Keeps UserStats in the store as plain Avro. */
    static final class AvroSerde implements Serde<GenericRecord> {
        private final Schema schema;

        AvroSerde(Schema schema) {
            this.schema = schema;
        }

        @Override
        public Serializer<GenericRecord> serializer() {
            GenericDatumWriter<GenericRecord> w = new GenericDatumWriter<>(schema);
            return (topic, v) -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream(64);
                BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
                try {
                    w.write(v, enc);
                    enc.flush();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                return out.toByteArray();
            };
        }

        @Override
        public Deserializer<GenericRecord> deserializer() {
            GenericDatumReader<GenericRecord> r = new GenericDatumReader<>(schema);
            return (topic, b) -> {
                if (b == null) {
                    return null;
                }
                try {
                    return r.read(null, DecoderFactory.get().binaryDecoder(b, null));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            };
        }
    }

    /** The little of the Confluent registry API the app uses. */
    static final class Registry {
        private final String url;
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        private final ObjectMapper json = new ObjectMapper();

        Registry(String url) {
            this.url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        }

        /** The schema of id, or null when the registry does not know it. */
        String schema(int id) {
            HttpResponse<String> resp = send(HttpRequest.newBuilder(URI.create(url + "/schemas/ids/" + id)).GET());
            if (resp.statusCode() == 404 && errorCode(resp) == 40403) { // the registry's own "schema not found"
                return null;
            }
            return field(resp, "schema").asText();
        }

        int register(String subject, String schema) throws IOException {
            String body = json.writeValueAsString(Map.of("schema", schema));
            HttpResponse<String> resp = send(HttpRequest.newBuilder(URI.create(url + "/subjects/" + subject + "/versions"))
                    .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)));
            return field(resp, "id").asInt();
        }

        private HttpResponse<String> send(HttpRequest.Builder req) {
            try {
                return http.send(req.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        private int errorCode(HttpResponse<String> resp) {
            try {
                JsonNode code = json.readTree(resp.body()).get("error_code");
                return code == null ? 0 : code.asInt();
            } catch (IOException e) {
                return 0; // not the registry's answer
            }
        }

        private JsonNode field(HttpResponse<String> resp, String name) {
            if (resp.statusCode() != 200) {
                throw new IllegalStateException("registry: " + resp.statusCode() + ": " + resp.body());
            }
            try {
                JsonNode v = json.readTree(resp.body()).get(name);
                if (v == null) {
                    throw new IllegalStateException("registry answer without " + name + ": " + resp.body());
                }
                return v;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
