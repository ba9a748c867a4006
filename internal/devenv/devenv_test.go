package devenv_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/devenv"
	"github.com/sluicehq/sluice/registry/regclient"
)

const schemaV1 = `{"type":"record","name":"Thing","namespace":"t","fields":[{"name":"a","type":"string"}]}`

func TestStartServesBrokerAndRegistry(t *testing.T) {
	env, err := devenv.Start(t.Context(), devenv.Config{KafkaAddr: "127.0.0.1:0", Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	brokers, regURL := env.Brokers(), env.RegistryURL()
	if len(brokers) != 1 || !strings.HasPrefix(brokers[0], "127.0.0.1:") {
		t.Fatalf("Brokers() = %v, want one 127.0.0.1 address", brokers)
	}
	if got := getBody(t, regURL+"/subjects"); got != "[]" {
		t.Fatalf("GET /subjects = %q, want []", got)
	}
	// Auto-created topics take Config.Partitions.
	cl := newClient(t, brokers, kgo.AllowAutoTopicCreation())
	produce(t, cl, "auto-created", "k", "v")
	if n := partitionCount(t, cl, "auto-created"); n != 3 {
		t.Fatalf("auto-created topic has %d partitions, want 3", n)
	}
	cl.Close()

	if err := env.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := env.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for _, addr := range []string{brokers[0], strings.TrimPrefix(regURL, "http://")} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after Close", addr)
		}
	}
}

func TestStartRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]devenv.Config{
		"non-loopback host": {KafkaAddr: "10.1.2.3:9092"},
		"bad port":          {KafkaAddr: "127.0.0.1:http"},
		"negative parts":    {Partitions: -1},
		"brokers and addr":  {Brokers: []string{"127.0.0.1:1"}, KafkaAddr: "127.0.0.1:0"},
		"brokers and dir":   {Brokers: []string{"127.0.0.1:1"}, DataDir: "data"},
	} {
		t.Run(name, func(t *testing.T) {
			env, err := devenv.Start(t.Context(), cfg)
			if err == nil {
				env.Close()
				t.Fatalf("Start(%+v) succeeded, want an error", cfg)
			}
		})
	}
}

func TestStartFailsOnBusyRegistryPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	env, err := devenv.Start(t.Context(), devenv.Config{RegistryAddr: ln.Addr().String()})
	if err == nil {
		env.Close()
		t.Fatal("Start on a busy registry port succeeded")
	}
}

func TestStartWithBrokersRunsOnlyTheRegistry(t *testing.T) {
	// Stand in for an existing cluster with a kfake cluster of our own.
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	cl := newClient(t, cluster.ListenAddrs())
	defer cl.Close()

	env, err := devenv.Start(t.Context(), devenv.Config{Brokers: cluster.ListenAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := env.Brokers(), cluster.ListenAddrs(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Brokers() = %v, want the external %v", got, want)
	}
	if env.Cluster() != nil {
		t.Fatal("Cluster() is not nil with an external broker")
	}
	if _, err := registryClient(t, env.RegistryURL()).Register(t.Context(), "x-value", schemaV1); err != nil {
		t.Fatalf("registering: %v", err)
	}
	var schemasTopic string
	for _, name := range topicNames(t, cl) {
		if strings.HasPrefix(name, devenv.SchemasTopic+"-") {
			schemasTopic = name
		}
	}
	if schemasTopic == "" {
		t.Fatalf("no per-run schemas topic among %v", topicNames(t, cl))
	}
	if err := env.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close deleted the schemas topic.
	for _, name := range topicNames(t, cl) {
		if name == schemasTopic {
			t.Fatalf("schemas topic %s still exists after Close", name)
		}
	}
}

func TestRestartWithDataDirKeepsTopicsAndSchemas(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()

	env1, err := devenv.Start(ctx, devenv.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	id1, err := registryClient(t, env1.RegistryURL()).Register(ctx, "things-value", schemaV1)
	if err != nil {
		t.Fatalf("registering: %v", err)
	}
	cl := newClient(t, env1.Brokers(), kgo.AllowAutoTopicCreation())
	produce(t, cl, "things", "k1", "v1")
	cl.Close()
	if err := env1.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Restart on new random ports, then again on the same ports.
	env2, err := devenv.Start(ctx, devenv.Config{DataDir: dir})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	checkKept(t, env2, id1, "k1")
	kafkaAddr, regAddr := env2.Brokers()[0], strings.TrimPrefix(env2.RegistryURL(), "http://")
	if err := env2.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	env3, err := devenv.Start(ctx, devenv.Config{DataDir: dir, KafkaAddr: kafkaAddr, RegistryAddr: regAddr})
	if err != nil {
		t.Fatalf("restart on the same ports: %v", err)
	}
	defer env3.Close()
	if env3.Brokers()[0] != kafkaAddr || env3.RegistryURL() != "http://"+regAddr {
		t.Fatalf("restarted on %v %s, want %s %s", env3.Brokers(), env3.RegistryURL(), kafkaAddr, regAddr)
	}
	checkKept(t, env3, id1, "k1")

	// New registrations continue after the kept ids.
	other := strings.Replace(schemaV1, `"Thing"`, `"Other"`, 1)
	id2, err := registryClient(t, env3.RegistryURL()).Register(ctx, "others-value", other)
	if err != nil {
		t.Fatalf("registering after restart: %v", err)
	}
	if id2 <= id1 {
		t.Fatalf("new schema got id %d, want > %d", id2, id1)
	}
}

func registryClient(t *testing.T, url string) *regclient.Client {
	t.Helper()
	c, err := regclient.New(regclient.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkKept verifies that env serves schema id under things-value and the
// record produced before the restart.
func checkKept(t *testing.T, env *devenv.Env, id int, key string) {
	t.Helper()
	reg := registryClient(t, env.RegistryURL())
	got, err := reg.SchemaByID(t.Context(), id)
	if err != nil {
		t.Fatalf("schema id %d after restart: %v", id, err)
	}
	if !strings.Contains(got.Text, `"Thing"`) {
		t.Fatalf("schema id %d after restart = %s", id, got.Text)
	}
	again, err := reg.Register(t.Context(), "things-value", schemaV1)
	if err != nil {
		t.Fatalf("re-registering: %v", err)
	}
	if again != id {
		t.Fatalf("re-registering the same schema gave id %d, want %d", again, id)
	}
	cl := newClient(t, env.Brokers(), kgo.ConsumeTopics("things"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	if r := pollOne(t, cl); string(r.Key) != key {
		t.Fatalf("record after restart has key %q, want %q", r.Key, key)
	}
}

func newClient(t *testing.T, brokers []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func produce(t *testing.T, cl *kgo.Client, topic, key, value string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	r := &kgo.Record{Topic: topic, Key: []byte(key), Value: []byte(value)}
	if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
		t.Fatalf("producing to %s: %v", topic, err)
	}
}

func pollOne(t *testing.T, cl *kgo.Client) *kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		fs := cl.PollRecords(ctx, 1)
		if err := ctx.Err(); err != nil {
			t.Fatalf("no record consumed: %v", err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s[%d]: %v", topic, p, err) })
		if recs := fs.Records(); len(recs) > 0 {
			return recs[0]
		}
	}
}

// topicNames lists the cluster's topics.
func topicNames(t *testing.T, cl *kgo.Client) []string {
	t.Helper()
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(t.Context(), cl)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tp := range resp.Topics {
		names = append(names, *tp.Topic)
	}
	return names
}

func partitionCount(t *testing.T, cl *kgo.Client, topic string) int {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(t.Context(), cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Topics) != 1 {
		t.Fatalf("metadata for %s: %d topics", topic, len(resp.Topics))
	}
	return len(resp.Topics[0].Partitions)
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	return strings.TrimSpace(string(b))
}
