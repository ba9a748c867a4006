package pipeline_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/internal/dlq"
	"github.com/sluicehq/sluice/internal/ops"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/pipeline"
)

// setTopicConfig sets one config of a topic.
func setTopicConfig(t *testing.T, brokers []string, topic, name, value string) {
	t.Helper()
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, topic
	c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	c.Name, c.Value, c.Op = name, kmsg.StringPtr(value), kmsg.IncrementalAlterConfigOpSet
	res.Configs = append(res.Configs, c)
	req.Resources = append(req.Resources, res)
	resp, err := req.RequestWith(t.Context(), testkit.Client(t, brokers))
	if err != nil {
		t.Fatalf("setting %s=%s on %s: %v", name, value, topic, err)
	}
	for _, r := range resp.Resources {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			t.Fatalf("setting %s=%s on %s: %v", name, value, topic, err)
		}
	}
}

// TestReplayTargetsItsPipeline is the shared-topic replay: big-purchases
// dead-letters a good purchase (its output would not fit the big-purchases
// topic, whose max.message.bytes is small), the operator raises the limit,
// restarts and replays big-purchases' dead letters into user-topic, which
// user-stats reads too. user-stats skips the replayed record (filtered,
// reason replay_for_other) so its state and outputs count every event once;
// big-purchases processes it, so its outputs are complete; nothing is
// dead-lettered again.
func TestReplayTargetsItsPipeline(t *testing.T) {
	env := testkit.Env(t)
	cfg, names := referenceConfig(t, env)
	brokers := env.Brokers()
	testkit.CreateTopic(t, brokers, names.input, 3, nil)
	testkit.CreateTopic(t, brokers, names.big, 3, map[string]string{"max.message.bytes": "4096"})
	v1, v2 := userEventCodecs(t, env.RegistryURL(), names.input)

	events := demo.GenerateEvents(testkit.Seed(t), 300, 20, 0)
	long := strings.Repeat("Z", 5000)
	whale := demo.Event{Key: "whale", Kind: demo.KindValid, EventType: "purchase", Amount: 900, TS: 1790000000000, Country: &long}
	events = append(events, whale)
	records, err := demo.Records(names.input, events, v1, v2, 999999)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Produce(t, brokers, records)
	n := int64(len(events))

	rt, stop := startRuntime(t, cfg, pipeline.Options{})
	us := waitConsumed(t, rt, names.stats, n, 2*time.Minute)
	bp := waitConsumed(t, rt, names.big, n, 2*time.Minute)
	c := testkit.CountEvents(events)
	if us.DeadLettered != int64(c.Negative) || bp.DeadLettered != 1 || bp.Processed != int64(c.Big-1) {
		t.Fatalf("first run: user-stats %+v, big-purchases %+v; want %d and 1 dead-lettered, %d big purchases", us, bp, c.Negative, c.Big-1)
	}
	letters := testkit.ReadAll(t, brokers, names.dlq, c.Negative+1, time.Minute)
	var whaleLetter *kgo.Record
	for _, d := range letters {
		if mustHeader(t, d, deadletter.HeaderPipeline) == names.big {
			whaleLetter = d
		}
	}
	if whaleLetter == nil || string(whaleLetter.Key) != "whale" || whaleLetter.Value != nil ||
		mustHeader(t, whaleLetter, deadletter.HeaderStage) != deadletter.StageEmit || mustHeader(t, whaleLetter, deadletter.HeaderKind) != deadletter.KindOversize {
		t.Fatalf("big-purchases' dead letter: %+v", whaleLetter)
	}
	testkit.WaitLagZero(t, brokers, names.statsGroup, names.input, time.Minute)
	testkit.WaitLagZero(t, brokers, names.bigGroup, names.input, time.Minute)
	stop()
	statsOutputs := testkit.TopicSize(t, brokers, names.stats)

	// The fix, and the replay of big-purchases' letters into user-topic.
	setTopicConfig(t, brokers, names.big, "max.message.bytes", "1048588")
	rt, stop = startRuntime(t, cfg, pipeline.Options{})
	defer stop()
	filter, err := dlq.CompileFilter(fmt.Sprintf("pipeline == %q", names.big))
	if err != nil {
		t.Fatal(err)
	}
	st, err := dlq.Replay(t.Context(), names.dlq, dlq.WithFilter(filter), dlq.WithClientOpts(testkit.KafkaOpts(t, brokers)...))
	if err != nil || st.Replayed != 1 || st.Skipped != c.Negative {
		t.Fatalf("replay: %+v, %v; want 1 replayed, %d skipped", st, err, c.Negative)
	}

	// (The replay's transaction marker follows the record in user-topic:
	// the groups' lag stays 1, as for any transactional producer.)
	us = waitConsumed(t, rt, names.stats, 1, time.Minute)
	bp = waitConsumed(t, rt, names.big, 1, time.Minute)
	if want := (pipeline.Counts{Consumed: 1, Filtered: 1, ReplaysForOthers: 1}); us != want {
		t.Errorf("user-stats after the replay: %+v, want %+v", us, want)
	}
	if want := (pipeline.Counts{Consumed: 1, Processed: 1}); bp != want {
		t.Errorf("big-purchases after the replay: %+v, want %+v", bp, want)
	}

	// user-stats counted every event once: the table and the last output
	// per key, and no output for the replayed record.
	want := testkit.ExpectUserStats(events)
	compareStats(t, "table", want, tableStates(t, rt, names.stats, want))
	compareStats(t, "last output", want, lastOutputs(t, env.RegistryURL(), testkit.ReadToEnd(t, brokers, names.stats)))
	if got := testkit.TopicSize(t, brokers, names.stats); got != statsOutputs {
		t.Errorf("user-stats wrote %d outputs, %d before the replay", got, statsOutputs)
	}
	// big-purchases' outputs are now complete, the whale's last.
	wantBig := testkit.ExpectBigPurchases(events)
	gotBig := map[string][]testkit.BigPurchase{}
	for _, r := range testkit.ReadAll(t, brokers, names.big, c.Big, time.Minute) {
		var b testkit.BigPurchase
		if err := json.Unmarshal(r.Value, &b); err != nil {
			t.Fatalf("big-purchases output %q: %v", r.Value, err)
		}
		gotBig[string(r.Key)] = append(gotBig[string(r.Key)], b)
	}
	if n := testkit.TopicSize(t, brokers, names.big); n != int64(c.Big) {
		t.Errorf("%d big-purchases outputs, want %d", n, c.Big)
	}
	for k, w := range wantBig {
		if !coversInOrder(gotBig[k], w) || len(gotBig[k]) != len(w) {
			t.Errorf("big-purchases of %s: %+v, want %+v", k, gotBig[k], w)
		}
	}
	if n := testkit.TopicSize(t, brokers, names.dlq); n != int64(c.Negative+1) {
		t.Errorf("%d dead letters after the replay, want %d as before", n, c.Negative+1)
	}

	// The metrics say why user-stats filtered it.
	srv := httptest.NewServer(ops.Handler(rt))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range []string{
		fmt.Sprintf(`sluice_messages_filtered_total{pipeline=%q,reason="replay_for_other"} 1`, names.stats),
		fmt.Sprintf(`sluice_messages_filtered_total{pipeline=%q,reason="step"} 0`, names.stats),
		fmt.Sprintf(`sluice_messages_filtered_total{pipeline=%q,reason="replay_for_other"} 0`, names.big),
	} {
		if !strings.Contains(string(body), line+"\n") {
			t.Errorf("metrics lack %q", line)
		}
	}
}
