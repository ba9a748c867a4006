package pipeline_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/internal/devenv"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/pipeline"
)

// windowEvents generates purchases of users over about two hours arriving
// up to three minutes out of order (so that some are later than the
// minute of grace), heartbeats and negative amounts (filtered), then one
// purchase per user two hours after the rest, which closes every earlier
// window.
func windowEvents(seed uint64, n, users int) []demo.Event {
	rng := rand.New(rand.NewPCG(seed, 5))
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	const minute = int64(60_000)
	var events []demo.Event
	for i := 0; i < n; i++ {
		e := demo.Event{Key: fmt.Sprintf("user-%d", rng.IntN(users)), Kind: demo.KindValid, EventType: "purchase",
			Amount: float64(rng.IntN(10000)) / 4, TS: base + int64(i)*120*minute/int64(n) - rng.Int64N(3*minute)}
		switch r := rng.IntN(20); {
		case r == 0:
			e.EventType, e.Amount = "heartbeat", 0
		case r == 1:
			e.Amount = -1
		}
		events = append(events, e)
	}
	for u := 0; u < users; u++ {
		events = append(events, demo.Event{Key: fmt.Sprintf("user-%d", u), Kind: demo.KindValid, EventType: "purchase", Amount: 1, TS: base + 240*minute})
	}
	return events
}

// windowOracle computes the windows of size every advance (from the epoch)
// the pipeline makes of events in arrival order, with a minute of grace: a
// window takes a purchase unless the largest ts seen so far has reached its
// end + grace. closed are the windows the final stream time closed, all
// every window, by windowKey; late counts the purchases no window took,
// taken the purchases windows took (hopping ones count in several).
func windowOracle(events []demo.Event, size, advance time.Duration) (closed, all map[string]string, late, taken int) {
	sz, adv, grace := size.Milliseconds(), advance.Milliseconds(), time.Minute.Milliseconds()
	type acc struct {
		end       int64
		purchases int64
		spent     float64
	}
	windows := map[string]*acc{}
	seen := int64(-1 << 62)
	for _, e := range events {
		if e.EventType != "purchase" || e.Amount < 0 {
			continue
		}
		seen = max(seen, e.TS)
		took := false
		for start := e.TS - e.TS%adv - (sz/adv-1)*adv; start <= e.TS; start += adv {
			if start+sz <= e.TS || start+sz+grace <= seen {
				continue
			}
			k := windowKey(e.Key, start, start+sz)
			if windows[k] == nil {
				windows[k] = &acc{end: start + sz}
			}
			windows[k].purchases++
			windows[k].spent += e.Amount
			took = true
			taken++
		}
		if !took {
			late++
		}
	}
	closed, all = map[string]string{}, map[string]string{}
	for k, a := range windows {
		all[k] = fmt.Sprintf("purchases=%d spent=%.2f", a.purchases, a.spent)
		if a.end+grace <= seen {
			closed[k] = all[k]
		}
	}
	return closed, all, late, taken
}

// windowConfig is the reference configuration, its window step's type
// and emit replaced by shape and emit when they are given.
func windowConfig(t *testing.T, env *devenv.Env, shape, emit string) (*pipeline.Config, refNames) {
	t.Helper()
	if shape == "" && emit == "" {
		return referenceConfig(t, env)
	}
	src, err := os.ReadFile("../pipelines.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	for _, r := range [][2]string{{"type: tumbling\n          size: 5m\n", shape}, {"emit: on_close\n", emit}} {
		if r[1] == "" {
			continue
		}
		if !strings.Contains(text, r[0]) {
			t.Fatalf("the reference window step no longer has %q", r[0])
		}
		text = strings.Replace(text, r[0], r[1], 1)
	}
	path := filepath.Join(t.TempDir(), "pipelines.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs("../schemas")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(abs, filepath.Join(filepath.Dir(path), "schemas")); err != nil {
		t.Fatal(err)
	}
	return referenceConfigFile(t, path, testkit.Kafka(env.Brokers()), env.RegistryURL())
}

func windowKey(user string, start, end int64) string {
	return fmt.Sprintf("%s [%d, %d)", user, start, end)
}

// TestWindowPipeline runs the reference user-purchases-5m pipeline over
// purchases that arrive out of order, some too late, and compares the
// windows it publishes and its dead letters with the oracle's: straight
// through, and stopped and restarted halfway (in-memory tables recovered
// from the changelog, and tables kept in a state dir). With emit: on_close
// each closed window is published once (after a restart, at most once more
// with the same value); with on_update every window's last update is its
// value.
func TestWindowPipeline(t *testing.T) {
	for _, c := range []struct {
		name     string
		restart  bool
		stateDir bool
		onUpdate bool
		hopping  bool
	}{
		{name: "straight"}, {name: "restart", restart: true}, {name: "restart-state-dir", restart: true, stateDir: true},
		{name: "on_update", onUpdate: true}, {name: "on_update-restart", restart: true, onUpdate: true},
		{name: "hopping", hopping: true}, {name: "hopping-on_update-restart", hopping: true, onUpdate: true, restart: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := testkit.Env(t)
			size, advance, shape, emit := 5*time.Minute, 5*time.Minute, "", ""
			if c.hopping {
				size, shape = 10*time.Minute, "type: hopping\n          size: 10m\n          advance: 5m\n"
			}
			if c.onUpdate {
				emit = "emit: on_update\n"
			}
			cfg, names := windowConfig(t, env, shape, emit)
			// One partition: the oracle's stream time is the whole topic's.
			testkit.CreateTopic(t, env.Brokers(), names.input, 1, nil)
			v1, v2 := userEventCodecs(t, env.RegistryURL(), names.input)
			seed := testkit.Seed(t)
			events := windowEvents(seed, 3000, 20)
			want, all, late, taken := windowOracle(events, size, advance)
			if c.onUpdate {
				want = all
			}
			// A hopping purchase is late only when both its windows closed,
			// which three minutes out of order never reach: it misses the
			// earlier one only.
			if late == 0 && !c.hopping {
				t.Fatalf("seed %d: no late event to test", seed)
			}
			records, err := demo.Records(names.input, events, v1, v2, 999999)
			if err != nil {
				t.Fatal(err)
			}
			opts := pipeline.Options{Only: []string{names.purchases}}
			if c.stateDir {
				opts.StateDir = t.TempDir()
			}
			half := len(records) / 2
			if !c.restart {
				half = len(records)
			}
			rt, stop := startRuntime(t, cfg, opts)
			testkit.Produce(t, env.Brokers(), records[:half])
			waitConsumed(t, rt, names.purchases, int64(half), 2*time.Minute)
			if c.restart {
				stop()
				rt, stop = startRuntime(t, cfg, opts)
				testkit.Produce(t, env.Brokers(), records[half:])
			}
			defer stop()
			// Consumed counts messages since the runtime started.
			counts := waitConsumed(t, rt, names.purchases, int64(len(records)-half), 2*time.Minute)
			if counts.Consumed != counts.Processed+counts.Filtered+counts.DeadLettered {
				t.Errorf("counts do not add up: %+v", counts)
			}

			dec := avroReader(t, env.RegistryURL(), "../schemas/user_purchases_5m.avsc")
			testkit.ReadAll(t, env.Brokers(), names.purchases, len(want), 2*time.Minute)
			got := map[string]string{}
			repeated := 0
			for _, r := range testkit.ReadToEnd(t, env.Brokers(), names.purchases) {
				v, err := dec.Decode(r.Value)
				if err != nil {
					t.Fatalf("decoding an output: %v", err)
				}
				m := v.(map[string]any)
				if m["user_id"] != string(r.Key) {
					t.Errorf("output of key %s is of user %v", r.Key, m["user_id"])
				}
				k := windowKey(string(r.Key), m["window_start"].(time.Time).UnixMilli(), m["window_end"].(time.Time).UnixMilli())
				val := fmt.Sprintf("purchases=%d spent=%.2f", m["purchases"], m["total_spent"])
				if prev, ok := got[k]; ok {
					repeated++
					if prev != val && !c.onUpdate {
						t.Errorf("window %s published as %s, then as %s", k, prev, val)
					}
				}
				got[k] = val // with on_update, the last update
			}
			t.Logf("%d windows, %d late purchases, %d outputs of a window published before", len(want), late, repeated)
			if repeated > 0 && !c.restart && !c.onUpdate {
				t.Errorf("%d windows published more than once without a restart", repeated)
			}
			if c.onUpdate && !c.restart {
				// One update per purchase a window took.
				if outs := len(got) + repeated; outs != taken {
					t.Errorf("%d updates published, want one per purchase taken: %d", outs, taken)
				}
			}
			compareWindowOutputs(t, got, want)

			var lateLetters int
			for _, d := range testkit.ReadAll(t, env.Brokers(), names.purchasesDLQ, late, time.Minute) {
				stage, _ := testkit.Header(d, deadletter.HeaderStage)
				kind, _ := testkit.Header(d, deadletter.HeaderKind)
				if stage != deadletter.StageWindow || kind != deadletter.KindLate {
					t.Errorf("dead letter of stage %q kind %q, want window/late", stage, kind)
					continue
				}
				lateLetters++
			}
			if lateLetters != late {
				t.Errorf("%d late dead letters, want %d", lateLetters, late)
			}
		})
	}
}

func compareWindowOutputs(t *testing.T, got, want map[string]string) {
	t.Helper()
	var diffs []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("missing %s: %s", k, w))
		} else if g != w {
			diffs = append(diffs, fmt.Sprintf("%s: got %s, want %s", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("unexpected %s: %s", k, g))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%d windows differ (of %d):\n  %s", len(diffs), len(want), strings.Join(diffs, "\n  "))
	}
}
