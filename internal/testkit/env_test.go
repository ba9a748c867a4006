package testkit_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/devenv"
	"github.com/sluicehq/sluice/internal/testkit"
)

const schemaV1 = `{"type":"record","name":"Thing","namespace":"t","fields":[{"name":"a","type":"string"}]}`

func TestEnvProduceConsume(t *testing.T) {
	env := testkit.Env(t)
	topic := testkit.Unique("smoke")
	testkit.CreateTopic(t, env.Brokers(), topic, 1, nil) // a real test broker may not auto-create topics
	testkit.Produce(t, env.Brokers(), []*kgo.Record{{Topic: topic, Key: []byte("user-1"), Value: []byte("hello")}})
	r := testkit.ReadAll(t, env.Brokers(), topic, 1, 30*time.Second)[0]
	if string(r.Key) != "user-1" || string(r.Value) != "hello" {
		t.Fatalf("consumed %q=%q, want user-1=hello", r.Key, r.Value)
	}
	if id := register(t, env.RegistryURL(), topic+"-value", schemaV1); id < 1 {
		t.Fatalf("registered id %d", id)
	}
}

func TestEnvWithExternalBrokerRunsOnlyTheRegistry(t *testing.T) {
	// Stand in for a real broker with a kfake cluster of our own.
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	t.Setenv(testkit.BrokersVar, strings.Join(cluster.ListenAddrs(), ","))
	// It speaks plain text, whatever the real cluster of the run needs.
	for _, v := range []string{testkit.TLSVar, testkit.TLSCAFileVar, testkit.SASLMechanismVar} {
		t.Setenv(v, "")
	}
	cl := testkit.Client(t, cluster.ListenAddrs())

	var schemasTopic string
	t.Run("inner", func(t *testing.T) {
		if !testkit.External() {
			t.Fatalf("External() is false with $%s set", testkit.BrokersVar)
		}
		env := testkit.Env(t)
		if got, want := env.Brokers(), cluster.ListenAddrs(); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("Brokers() = %v, want the external %v", got, want)
		}
		if env.Cluster() != nil {
			t.Fatal("Cluster() is not nil with an external broker")
		}
		register(t, env.RegistryURL(), "x-value", schemaV1)
		for _, name := range topicNames(t, cl) {
			if strings.HasPrefix(name, devenv.SchemasTopic+"-") {
				schemasTopic = name
			}
		}
		if schemasTopic == "" {
			t.Fatalf("no per-test schemas topic among %v", topicNames(t, cl))
		}
	})
	// The test's cleanup deleted its schemas topic.
	for _, name := range topicNames(t, cl) {
		if name == schemasTopic {
			t.Fatalf("schemas topic %s still exists after the test", name)
		}
	}
}

func TestBrokers(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		t.Setenv(testkit.BrokersVar, "")
		brokers := testkit.Brokers(t)
		if len(brokers) != 1 || !strings.HasPrefix(brokers[0], "127.0.0.1:") {
			t.Fatalf("Brokers = %v, want one embedded 127.0.0.1 broker", brokers)
		}
		testkit.CreateTopic(t, brokers, "three", 3, nil)
		testkit.Produce(t, brokers, []*kgo.Record{{Topic: "three", Value: []byte("v")}})
		if n := testkit.TopicSize(t, brokers, "three"); n != 1 {
			t.Fatalf("TopicSize = %d, want 1", n)
		}
	})
	t.Run("external", func(t *testing.T) {
		t.Setenv(testkit.BrokersVar, " 10.0.0.1:9092, 10.0.0.2:9092 ,")
		if got := testkit.Brokers(t); strings.Join(got, ",") != "10.0.0.1:9092,10.0.0.2:9092" {
			t.Fatalf("Brokers = %v, want the two of $%s", got, testkit.BrokersVar)
		}
	})
}

// register registers schema under subject and returns its id.
func register(t *testing.T, registryURL, subject, schema string) int {
	t.Helper()
	body, err := json.Marshal(map[string]string{"schema": schema})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(registryURL+"/subjects/"+subject+"/versions", "application/vnd.schemaregistry.v1+json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("registering a schema: %v", err)
	}
	defer resp.Body.Close()
	var out struct{ ID int }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("registering a schema: %s (%v)", resp.Status, err)
	}
	return out.ID
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
