package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/bench/contest"
	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/internal/devenv"
	"github.com/sluicehq/sluice/processors/config"
	"github.com/sluicehq/sluice/registry/regclient"
	"github.com/sluicehq/sluice/schemas"
)

// brokersVar points the suite at a real cluster, as it does the tests.
const brokersVar = "SLUICE_TEST_BROKERS"

// partitions of the input topics (the reference pipelines.yaml's).
const partitions = 6

// harness holds what every workload of one run shares.
type harness struct {
	o        options
	repo     string // the module's root
	tmp      string
	env      *devenv.Env
	brokers  []string
	external bool
	adm      *kadm.Client
	sluice   string // the built ./cmd/sluice
	self     string // this binary, run with -child
	run      string // prefix of every topic and group of this run
	v1, v2   demo.Encoder
	// kstreamsBuilt is the jar built from bench/kstreams in this run.
	kstreamsBuilt string
	// codec reads outputs (UserEvents and UserStats) as the contestants do.
	codec *contest.Codec
	log   func(format string, args ...any)
}

func runSuite(ctx context.Context, o options) error {
	started := time.Now()
	h := &harness{o: o, log: func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}}
	var err error
	if h.repo, err = repoRoot(); err != nil {
		return err
	}
	if h.tmp, err = os.MkdirTemp("", "sluice-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(h.tmp)
	if h.self, err = os.Executable(); err != nil {
		return err
	}
	h.run = "bench-" + strings.ToLower(rand.Text()[:6])

	cfg := devenv.Config{KafkaAddr: "127.0.0.1:0", RegistryAddr: "127.0.0.1:0"}
	if list := os.Getenv(brokersVar); list != "" {
		h.external = true
		cfg = devenv.Config{Brokers: config.SplitList(list), RegistryAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)}
	}
	h.env, err = devenv.Start(ctx, cfg)
	if err != nil {
		return fmt.Errorf("starting the broker and registry: %w", err)
	}
	defer h.env.Close()
	h.brokers = h.env.Brokers()
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.brokers...))
	if err != nil {
		return err
	}
	defer cl.Close()
	h.adm = kadm.NewClient(cl)
	defer h.deleteTopics()

	h.log("building ./cmd/sluice")
	h.sluice = filepath.Join(h.tmp, "sluice")
	build := exec.CommandContext(ctx, "go", "build", "-o", h.sluice, "./cmd/sluice")
	build.Dir = h.repo
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building sluice: %w\n%s", err, out)
	}
	if err := h.setupCodecs(ctx); err != nil {
		return err
	}

	rep := &report{o: o, external: h.external, brokers: h.brokers, started: started}
	want := func(w string) bool { return slices.Contains(config.SplitList(o.workloads), w) }
	if want("w1") || want("w2") || want("w3") {
		if err := h.userTopicWorkloads(ctx, rep, want); err != nil {
			return err
		}
	}
	if want("w4") {
		h.log("W4: codec microbenchmarks")
		if rep.codecs, err = codecBenchmarks(ctx, h); err != nil {
			return err
		}
	}
	if want("w5") {
		if err := h.manyKeys(ctx, rep); err != nil {
			return err
		}
	}
	rep.elapsed = time.Since(started)
	text := rep.markdown()
	fmt.Println(text)
	if o.out != "" {
		path := o.out
		if !filepath.IsAbs(path) {
			path = filepath.Join(h.repo, path)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return fmt.Errorf("writing the report: %w", err)
		}
		h.log("wrote %s", path)
	}
	if rep.failed() {
		return errors.New("some contestant's outputs were not exact or it did not finish: see the table")
	}
	return nil
}

// repoRoot is the module's root: the working directory or a parent of it.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "pipelines.yaml")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from the sluice repository (no go.mod with pipelines.yaml here or above)")
		}
		dir = parent
	}
}

// setupCodecs makes the v1 and v2 UserEvent writers and the output reader.
func (h *harness) setupCodecs(ctx context.Context) error {
	event, err := schemas.ReadFile(schemas.UserEventFile)
	if err != nil {
		return err
	}
	stats, err := schemas.ReadFile(schemas.UserStatsFile)
	if err != nil {
		return err
	}
	h.codec, err = contest.NewCodec(ctx, contest.Config{RegistryURL: h.env.RegistryURL(), EventSchema: string(event), StatsSchema: string(stats)})
	return err
}

// writers registers the v1 and v2 UserEvent schemas for topic and returns
// their encoders.
func (h *harness) writers(ctx context.Context, topic string) (v1, v2 demo.Encoder, err error) {
	client, err := regclient.New(regclient.Config{URL: h.env.RegistryURL()})
	if err != nil {
		return nil, nil, err
	}
	s := codecs.NewSchemas()
	var enc [2]demo.Encoder
	for i, path := range []string{"testdata/schemas/user_event_v1.avsc", "schemas/user_event.avsc"} {
		sch, err := s.ParseFile(filepath.Join(h.repo, path))
		if err != nil {
			return nil, nil, err
		}
		c, err := codecs.NewAvro(client, s, sch, codecs.WithSubject(topic, codecs.TopicNameStrategy))
		if err != nil {
			return nil, nil, err
		}
		if _, err := c.Register(ctx); err != nil {
			return nil, nil, fmt.Errorf("registering %s: %w", path, err)
		}
		enc[i] = c.Encode
	}
	return enc[0], enc[1], nil
}

// createTopics creates topics with the input's partition count.
func (h *harness) createTopics(ctx context.Context, topics ...string) error {
	resp, err := h.adm.CreateTopics(ctx, partitions, 1, nil, topics...)
	if err != nil {
		return fmt.Errorf("creating %v: %w", topics, err)
	}
	for _, r := range resp.Sorted() {
		if r.Err != nil {
			return fmt.Errorf("creating %s: %w", r.Topic, r.Err)
		}
	}
	// A real broker elects leaders asynchronously.
	deadline := time.Now().Add(30 * time.Second)
	for {
		md, err := h.adm.Metadata(ctx, topics...)
		ok := err == nil
		if ok {
			for _, t := range topics {
				d, found := md.Topics[t]
				if !found || d.Err != nil || len(d.Partitions) != partitions {
					ok = false
					break
				}
				for _, p := range d.Partitions {
					if p.Leader < 0 || p.Err != nil {
						ok = false
					}
				}
			}
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("topics %v have no leaders after 30s (%v)", topics, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// deleteTopics removes this run's topics (on a real broker; kfake goes
// away with the process).
func (h *harness) deleteTopics() {
	if !h.external {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topics, err := h.adm.ListTopics(ctx)
	if err != nil {
		h.log("listing topics to delete: %v", err)
		return
	}
	var mine []string
	for _, t := range topics.Names() {
		if strings.HasPrefix(t, h.run) {
			mine = append(mine, t)
		}
	}
	if len(mine) == 0 {
		return
	}
	if _, err := h.adm.DeleteTopics(ctx, mine...); err != nil {
		h.log("deleting this run's topics: %v", err)
	}
}

// produce writes records and waits for all of them.
func (h *harness) produce(ctx context.Context, records []*kgo.Record) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.brokers...), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(100000))
	if err != nil {
		return err
	}
	defer cl.Close()
	const chunk = 20000
	for i := 0; i < len(records); i += chunk {
		if err := cl.ProduceSync(ctx, records[i:min(i+chunk, len(records))]...).FirstErr(); err != nil {
			return fmt.Errorf("producing the backlog: %w", err)
		}
	}
	return nil
}

// sluiceConfig writes the reference pipelines.yaml with this run's topics
// and groups and absolute schema paths, and returns its path. Every
// replacement must apply: a changed reference file fails the run instead of
// benchmarking something else.
func (h *harness) sluiceConfig(name string, t topics) (string, error) {
	src, err := os.ReadFile(filepath.Join(h.repo, "pipelines.yaml"))
	if err != nil {
		return "", err
	}
	text := string(src)
	for _, r := range [][2]string{
		{"topic: user-topic\n", "topic: " + t.input + "\n"},
		{"dead_letter: user-topic-dlq\n", "dead_letter: " + t.dlq + "\n"},
		{"group: user-stats\n", "group: " + t.group + "\n"},
		{"topic: user-stats\n", "topic: " + t.output + "\n"},
		{"group: big-purchases\n", "group: " + t.group + "-big\n"},
		{"topic: big-purchases\n", "topic: " + t.output + "-big\n"},
		{"schema: schemas/", "schema: " + filepath.Join(h.repo, "schemas") + "/"},
	} {
		if !strings.Contains(text, r[0]) {
			return "", fmt.Errorf("the reference pipelines.yaml no longer has %q: update bench/suite.go", r[0])
		}
		text = strings.ReplaceAll(text, r[0], r[1])
	}
	path := filepath.Join(h.tmp, name+".yaml")
	return path, os.WriteFile(path, []byte(text), 0o644)
}

// topics are where one contestant reads and writes.
type topics struct {
	input, output, dlq, group string
}

// topicsFor names a contestant's topics and group in this run.
func (h *harness) topicsFor(input, id string) topics {
	p := h.run + "-" + id
	return topics{input: input, output: p + "-out", dlq: p + "-dlq", group: p}
}
