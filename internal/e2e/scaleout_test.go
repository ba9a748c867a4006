package e2e

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/pipeline"
)

// instance is one `sluice run` process of a scaled-out pipeline.
type instance struct {
	name, http string
	proc       *proc
}

// owned returns the partitions of pipeline name this instance reports, or nil.
func (in *instance) owned(name string) []int32 {
	var st []pipeline.Status
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if code, err := getJSON(ctx, "http://"+in.http+"/pipelines", &st); err != nil || code != 200 {
		return nil
	}
	for _, s := range st {
		if s.Name == name && s.Ready {
			return s.Partitions
		}
	}
	return nil
}

// balanced reports whether the live instances together own each of n
// partitions exactly once and each owns at least one.
func balanced(live []*instance, pipelineName string, n int) bool {
	seen := map[int32]int{}
	for _, in := range live {
		parts := in.owned(pipelineName)
		if len(parts) == 0 {
			return false
		}
		for _, p := range parts {
			seen[p]++
		}
	}
	if len(seen) != n {
		return false
	}
	for _, c := range seen {
		if c != 1 {
			return false
		}
	}
	return true
}

// TestScaleOut runs three `sluice run` processes in one group over a
// 6-partition input: they share the partitions; one is SIGKILLed and its
// partitions (and table state, from the changelog) move to the others; then
// all three are restarted one by one while events keep coming. Results must
// be exact; the test logs how long each rebalance took.
func TestScaleOut(t *testing.T) {
	svc := startServices(t)
	suffix := testkit.Unique("")
	input, stats := "user-topic"+suffix, "user-stats"+suffix
	cfgPath := pipelinesFile(t, suffix, "")
	testkit.CreateTopic(t, svc.brokers, input, 6, nil)
	client := registryClient(t, svc.registry)
	v1, v2 := encoders(t, client, input)
	events := demo.GenerateEvents(testkit.Seed(t), 30000, 300, 0.02)
	records, err := demo.Records(input, events, v1, v2, 1<<29)
	if err != nil {
		t.Fatal(err)
	}
	produce := func(from, to int) {
		cl := testkit.Client(t, svc.brokers, kgo.ProducerLinger(5*time.Millisecond))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := cl.ProduceSync(ctx, records[from:to]...).FirstErr(); err != nil {
			t.Fatalf("producing events %d to %d: %v", from, to, err)
		}
	}

	startInstance := func(i int, generation int) *instance {
		// A random port for the operations endpoints, which the process logs.
		in := &instance{name: "run-" + strconv.Itoa(i)}
		in.proc = start(t, in.name+"-"+strconv.Itoa(generation), svc.env(), "run", "-f", cfgPath, "--http-addr", "127.0.0.1:0", "--log-level", "info")
		in.http = in.proc.awaitLine(t, opsAddrLine, time.Minute)[1]
		return in
	}
	waitBalanced := func(what string, live []*instance) time.Duration {
		t.Helper()
		began := time.Now()
		for !balanced(live, stats, 6) {
			if time.Since(began) > 2*time.Minute {
				for _, in := range live {
					t.Logf("%s owns %v; log:\n%s", in.name, in.owned(stats), in.proc.tail(15))
				}
				t.Fatalf("%s: timed out after 2m waiting for the live instances to own the 6 partitions once each, each some (owners logged above)", what)
			}
			time.Sleep(200 * time.Millisecond) // the poll interval of this bounded wait
		}
		took := time.Since(began)
		var owners []string
		for _, in := range live {
			owners = append(owners, in.name+"="+formatParts(in.owned(stats)))
		}
		t.Logf("%s: balanced after %s: %v", what, took.Round(100*time.Millisecond), owners)
		return took
	}

	instances := []*instance{startInstance(0, 0), startInstance(1, 0), startInstance(2, 0)}
	produce(0, 10000)
	waitBalanced("three instances join", instances)

	// Kill one: the other two take over its partitions.
	instances[1].proc.kill()
	waitBalanced("instance 1 killed", []*instance{instances[0], instances[2]})
	produce(10000, 20000)
	instances[1] = startInstance(1, 1)
	waitBalanced("instance 1 back", instances)

	// Rolling restart of all three, with events arriving meanwhile.
	for i := range instances {
		if err := instances[i].proc.stop(t, time.Minute); err != nil {
			t.Errorf("%s did not exit 0 on SIGTERM: %v", instances[i].name, err)
		}
		if i == 1 {
			produce(20000, 30000)
		}
		instances[i] = startInstance(i, 2)
		waitBalanced("rolling restart of "+instances[i].name, instances)
	}

	checkReferenceResults(t, svc, client, instances, input, stats, "big-purchases"+suffix, events)
}

func formatParts(ps []int32) string {
	s := slices.Clone(ps)
	slices.Sort(s)
	out := ""
	for i, p := range s {
		if i > 0 {
			out += ","
		}
		out += strconv.Itoa(int(p))
	}
	return "[" + out + "]"
}
