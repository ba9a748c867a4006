package pipeline

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/registry"
	"github.com/sluicehq/sluice/registry/regclient"
)

// The per-message path of the reference user-stats pipeline, run in goka's
// tester so that `go test -bench UserStats -benchmem ./pipeline` shows the
// time and allocations each message costs sluice's callback (decode, steps,
// table read and write, output encode), without a broker. The tester's own
// cost per message (queueing the input, the output and the changelog
// record) is in BenchmarkUserStatsCallback/tester_only, the floor under
// every number here. Read allocs/op and B/op: the tester hands messages over
// by polling, so ns/op is mostly its waiting, not sluice's work (the
// harness in bench/ measures time and CPU on a broker).

// benchUsers is how many distinct keys the benchmark's events spread over.
const benchUsers = 10000

// benchEvents are user-topic frames of the reference traffic (v1 and v2
// writers, heartbeats, negative amounts, no poison) and their keys.
type benchEvents struct {
	keys   []string
	frames [][]byte
}

// newBenchEvents frames n generated events with v1 and v2 writer schemas
// registered in the registry at url.
func newBenchEvents(b *testing.B, url string, n int) benchEvents {
	b.Helper()
	client, err := regclient.New(regclient.Config{URL: url})
	if err != nil {
		b.Fatal(err)
	}
	schemas := codecs.NewSchemas()
	v2, err := schemas.ParseFile("../schemas/user_event.avsc")
	if err != nil {
		b.Fatal(err)
	}
	v1, err := schemas.Parse(`{"type":"record","name":"UserEvent","namespace":"com.example.events","fields":[
		{"name":"user_id","type":"string"},
		{"name":"event_type","type":"string"},
		{"name":"amount","type":"double"},
		{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}}]}`)
	if err != nil {
		b.Fatal(err)
	}
	var enc [2]demo.Encoder
	for i, s := range []*codecs.Avro{mustBenchAvro(b, client, schemas, v1), mustBenchAvro(b, client, schemas, v2)} {
		if _, err := s.Register(context.Background()); err != nil {
			b.Fatal(err)
		}
		enc[i] = s.Encode
	}
	events := demo.GenerateEvents(13, n, benchUsers, 0)
	records, err := demo.Records("user-topic", events, enc[0], enc[1], 1<<30)
	if err != nil {
		b.Fatal(err)
	}
	out := benchEvents{keys: make([]string, n), frames: make([][]byte, n)}
	for i, r := range records {
		out.keys[i], out.frames[i] = string(r.Key), r.Value
	}
	return out
}

func mustBenchAvro(b *testing.B, client codecs.Registry, schemas *codecs.Schemas, s avro.Schema) *codecs.Avro {
	b.Helper()
	c, err := codecs.NewAvro(client, schemas, s, codecs.WithSubject("user-topic", codecs.TopicNameStrategy))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// runReferenceInTester runs the named pipeline of the reference
// pipelines.yaml in goka's tester, through the same runner and group graph
// production uses, against the registry at url.
func runReferenceInTester(b *testing.B, name, url string) *tester.Tester {
	b.Helper()
	cfg, err := Load("../pipelines.yaml")
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	rt, err := New(cfg, Options{Only: []string{name}, RegistryURL: url, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	tt := tester.New(b)
	run := rt.runs[0]
	hasher, err := Hasher(cfg.Kafka.Partitioner, 1)
	if err != nil {
		b.Fatal(err)
	}
	proc, err := goka.NewProcessor(nil, rt.groupGraph(run), goka.WithTester(tt), goka.WithHasher(hasher), goka.WithNilHandling(goka.NilProcess),
		goka.WithLogger(gokaLogger{log}),
		goka.WithProducerBuilder(run.producerBuilder(tt.ProducerBuilder())),
		goka.WithConsumerGroupBuilder(run.consumerGroupBuilder(tt.ConsumerGroupBuilder())))
	if err != nil {
		b.Fatal(err)
	}
	run.proc = proc
	startInTester(b, proc)
	return tt
}

// startInTester runs proc until the benchmark ends.
func startInTester(b *testing.B, proc *goka.Processor) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- proc.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("processor: %v", err)
		}
	})
}

// BenchmarkUserStatsCallback feeds the reference traffic, over benchUsers
// keys, through the user-stats pipeline one message at a time.
func BenchmarkUserStatsCallback(b *testing.B) {
	srv := httptest.NewServer(registry.NewServer(registry.NewMemoryStore()))
	defer srv.Close()
	events := newBenchEvents(b, srv.URL, 50000)

	b.Run("sluice", func(b *testing.B) {
		tt := runReferenceInTester(b, "user-stats", srv.URL)
		// Every key once, so that the measured messages update existing
		// entries as in a long-running pipeline.
		for i := range benchUsers {
			tt.Consume("user-topic", events.keys[i], events.frames[i])
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			tt.Consume("user-topic", events.keys[i], events.frames[i])
			i = (i + 1) % len(events.keys)
		}
	})

	// The tester's own cost: a goka callback that only writes the table and
	// emits the input, through the same tester and codecs.
	b.Run("tester_only", func(b *testing.B) {
		tt := tester.New(b)
		graph := goka.DefineGroup("bench-floor",
			goka.Input("user-topic", new(codecs.Bytes), func(ctx goka.Context, msg any) {
				ctx.SetValue(msg)
				ctx.Emit("user-stats", ctx.Key(), msg)
			}),
			goka.Output("user-stats", new(codecs.Bytes)),
			goka.Persist(new(codecs.Bytes)),
		)
		proc, err := goka.NewProcessor(nil, graph, goka.WithTester(tt), goka.WithLogger(gokaLogger{slog.New(slog.DiscardHandler)}))
		if err != nil {
			b.Fatal(err)
		}
		startInTester(b, proc)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			tt.Consume("user-topic", events.keys[i], events.frames[i])
			i = (i + 1) % len(events.keys)
		}
	})
}
