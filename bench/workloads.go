package main

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/time/rate"

	"github.com/sluicehq/sluice/bench/contest"
	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/internal/testkit"
)

// The W1 contestants, in the table's order.
const (
	cSluiceMem     = "sluice"
	cSluiceLevelDB = "sluice-leveldb"
	cGoka          = "goka"
	cFranz         = "franz"
	cPipe          = "pipe"
	cKStreams      = "kstreams"
)

var allContestants = []string{cSluiceMem, cSluiceLevelDB, cGoka, cFranz, cPipe, cKStreams}

// contestantLabels describe the contestants in the table.
var contestantLabels = map[string]string{
	cSluiceMem:     "`sluice run` (user-stats only, state in memory)",
	cSluiceLevelDB: "`sluice run --state-dir` (user-stats only, state in LevelDB)",
	cGoka:          "hand-written goka + sarama + hamba/avro (bytes in, Avro state in a LevelDB goka table)",
	cFranz:         "plain franz-go (kgo), state in a Go map",
	cPipe:          "raw franz-go consume -> produce pipe, no decoding",
	cKStreams:      "Kafka Streams 4.x (Java, Processor API, RocksDB store)",
}

// result is one row of a throughput table.
type result struct {
	workload, contestant string
	msgs                 int           // input messages the drain covered
	perSec               float64       // input messages per second draining the backlog
	cpuPerMsg            time.Duration // contestant CPU per input message during the drain
	peakRSS              int64         // contestant's peak RSS over its life, bytes
	p50, p99             time.Duration // end-to-end latency at the fixed rate
	latencyN             int
	exact                string // "yes", or what differed
	tooFast              bool   // the drain was too short to time
	err                  error  // the contestant did not finish
}

// stateKind says how to check a contestant's outputs.
type outputKind int

const (
	statsOutputs outputKind = iota // UserStats per applied event
	pipeOutputs                    // a copy of every input
	bigOutputs                     // big-purchases JSON
)

// userTopicWorkloads runs W1 (every contestant on one backlog), W2 and W3.
func (h *harness) userTopicWorkloads(ctx context.Context, rep *report, want func(string) bool) error {
	o := h.o
	input := h.run + "-user-topic"
	if err := h.createTopics(ctx, input); err != nil {
		return err
	}
	var err error
	if h.v1, h.v2, err = h.writers(ctx, input); err != nil {
		return err
	}
	h.log("producing the backlog: %d events over %d users to %s", o.events, o.users, input)
	events := demo.GenerateEvents(o.seed, o.events, o.users, 0.01)
	records, err := demo.Records(input, events, h.v1, h.v2, 1<<30)
	if err != nil {
		return err
	}
	if err := h.produce(ctx, records); err != nil {
		return err
	}
	ws := &w1Data{input: input, events: events, records: records, oracle: testkit.ExpectUserStats(events)}
	for _, s := range ws.oracle {
		ws.applied += int(s.Events)
	}

	if want("w1") {
		for _, c := range allContestants {
			if !slices.Contains(splitList(o.contestants), c) {
				continue
			}
			if c == cKStreams && !h.external {
				rep.notes = append(rep.notes, "Kafka Streams runs on the real broker only (set "+brokersVar+"); skipped on kfake.")
				continue
			}
			if c == cKStreams && o.smoke {
				continue
			}
			h.log("W1: %s draining %d events", c, o.events)
			r := h.drainW1(ctx, c, ws)
			rep.w1 = append(rep.w1, r)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	if want("w2") {
		h.log("W2: sluice big-purchases draining %d events", o.events)
		rep.w2 = append(rep.w2, h.drainW2(ctx, ws))
	}
	if want("w3") {
		if ws.recoveryGroup == "" {
			h.log("W3: sluice writing the user-stats changelog (W1 did not run sluice)")
			if err := h.writeChangelog(ctx, ws); err != nil {
				return err
			}
		}
		h.log("W3: sluice recovering the user-stats table from its changelog")
		rep.w3 = h.recoverW3(ctx, ws)
	}
	return ctx.Err()
}

// w1Data is the shared backlog and what it must make.
type w1Data struct {
	input   string
	events  []demo.Event
	records []*kgo.Record
	oracle  map[string]testkit.UserStats
	applied int // user-stats outputs the backlog makes
	// recoveryGroup is the group whose changelog W3 recovers.
	recoveryGroup string
	recoveryTopic topics
}

// drainOnce starts contestant c on the topics t (with LevelDB state when
// leveldb is set), measures how it drains the backlog into r until want
// outputs of kind came, checks them against the oracle, and stops it.
func (h *harness) drainOnce(ctx context.Context, c string, t topics, leveldb bool, kind outputKind, want int, ws *w1Data, r *result) {
	p, w, err := h.startContestant(ctx, c, t, leveldb)
	if err != nil {
		r.err = err
		return
	}
	defer w.close()
	defer func() {
		if u, err := p.stop(30 * time.Second); err == nil {
			r.peakRSS = u.peakRSS
		}
	}()
	if err := h.measureDrain(ctx, p, w, want, r); err != nil {
		r.err = err
		return
	}
	r.exact = h.check(kind, w.records(0)[:want], ws)
}

// drainW1 runs contestant c on the backlog, then measures its latency at
// the fixed rate on an input of its own (so that the shared backlog stays
// as it is for the next contestant).
func (h *harness) drainW1(ctx context.Context, c string, ws *w1Data) (r result) {
	r = result{workload: "W1", contestant: c, msgs: len(ws.events)}
	kind, want := statsOutputs, ws.applied
	if c == cPipe {
		kind, want = pipeOutputs, len(ws.events)
	}
	t := h.topicsFor(ws.input, c)
	h.drainOnce(ctx, c, t, false, kind, want, ws, &r)
	if r.err != nil {
		return r
	}
	if c == cSluiceMem {
		ws.recoveryGroup, ws.recoveryTopic = t.group, t
	}
	if err := h.latency(ctx, c, kind, &r); err != nil {
		r.err = fmt.Errorf("latency phase: %w", err)
	}
	return r
}

// writeChangelog runs sluice on the backlog until it has drained it, for
// W3 to recover the table it wrote.
func (h *harness) writeChangelog(ctx context.Context, ws *w1Data) error {
	t := h.topicsFor(ws.input, cSluiceMem)
	p, w, err := h.startContestant(ctx, cSluiceMem, t, false)
	if err != nil {
		return err
	}
	defer w.close()
	defer p.stop(30 * time.Second)
	if _, err := w.waitDrain(ctx, p, ws.applied, h.o.timeout); err != nil {
		return err
	}
	ws.recoveryGroup, ws.recoveryTopic = t.group, t
	return nil
}

// startContestant starts contestant c on topics t and a watcher on its
// output; leveldb puts sluice's state in LevelDB.
func (h *harness) startContestant(ctx context.Context, c string, t topics, w5 bool) (*child, *watcher, error) {
	out := t.output
	if err := h.createTopics(ctx, t.output, t.dlq); err != nil {
		return nil, nil, err
	}
	var p *child
	var err error
	state := filepath.Join(h.tmp, "state-"+t.group)
	switch c {
	case cSluiceMem, cSluiceLevelDB:
		var path string
		if path, err = h.sluiceConfig(t.group, t); err != nil {
			return nil, nil, err
		}
		args := []string{"run", "-f", path, "--pipeline", "user-stats", "--brokers", joinList(h.brokers),
			"--registry", h.env.RegistryURL(), "--log-level", "warn"}
		if c == cSluiceLevelDB || w5 {
			args = append(args, "--state-dir", state)
		}
		args = append(args, strings.Fields(h.o.sluiceArgs)...)
		p, err = startChild(c, h.sluice, args, nil)
	case cGoka, cFranz, cPipe:
		opts := childOptions{name: c, brokers: joinList(h.brokers), registry: h.env.RegistryURL(),
			input: t.input, output: t.output, dlq: t.dlq, group: t.group, stateDir: state, pprof: h.o.childOptions.pprof}
		p, err = startChild(c, h.self, opts.args(), nil)
	case cKStreams:
		p, err = h.startKStreams(ctx, t, state)
	default:
		err = fmt.Errorf("no contestant %q", c)
	}
	if err != nil {
		return nil, nil, err
	}
	w, err := watch(h.brokers, out)
	if err != nil {
		_, _ = p.stop(10 * time.Second)
		return nil, nil, err
	}
	return p, w, nil
}

// measureDrain waits for want outputs and fills in r's throughput and CPU.
func (h *harness) measureDrain(ctx context.Context, p *child, w *watcher, want int, r *result) error {
	d, err := w.waitDrain(ctx, p, want, h.o.timeout)
	if err != nil {
		return err
	}
	// The drain is timed from the first output to the last: the
	// contestant's start (process, group join, recovery) is not in it.
	covered := float64(r.msgs)
	elapsed := d.last.Sub(d.first)
	if elapsed < 50*time.Millisecond {
		r.tooFast = true // output timestamps are milliseconds: raise -events
		return nil
	}
	r.perSec = covered / elapsed.Seconds()
	r.cpuPerMsg = time.Duration(float64(d.cpuLast-d.cpuFirst) / covered)
	return nil
}

// check compares the first outputs of a drain with what the backlog must
// make, and says "yes" or what differs.
func (h *harness) check(kind outputKind, recs []received, ws *w1Data) string {
	switch kind {
	case pipeOutputs:
		want := map[string]uint64{}
		for _, r := range ws.records {
			want[string(r.Key)] = chain(want[string(r.Key)], r.Value)
		}
		got := map[string]uint64{}
		for _, r := range recs {
			got[r.key] = chain(got[r.key], r.value)
		}
		for k, v := range want {
			if got[k] != v {
				return "no: the records of " + k + " differ from the input's"
			}
		}
		return "yes"
	case bigOutputs:
		got := map[string][]testkit.BigPurchase{}
		for _, r := range recs {
			var b testkit.BigPurchase
			if err := json.Unmarshal(r.value, &b); err != nil {
				return fmt.Sprintf("no: output %q: %v", r.value, err)
			}
			got[r.key] = append(got[r.key], b)
		}
		want := testkit.ExpectBigPurchases(ws.events)
		if len(got) != len(want) {
			return fmt.Sprintf("no: outputs for %d users, want %d", len(got), len(want))
		}
		for k, w := range want {
			if !slices.EqualFunc(got[k], w, sameBig) {
				return fmt.Sprintf("no: %s got %+v, want %+v", k, got[k], w)
			}
		}
		return "yes"
	}
	last := map[string][]byte{}
	for _, r := range recs {
		last[r.key] = r.value
	}
	if len(last) != len(ws.oracle) {
		return fmt.Sprintf("no: outputs for %d users, want %d", len(last), len(ws.oracle))
	}
	for k, w := range ws.oracle {
		s, err := decodeStats(h.codec.StatsSchema(), last[k])
		if err != nil {
			return "no: " + err.Error()
		}
		if s.UserID != w.UserID || s.Events != w.Events || s.Purchases != w.Purchases || s.TotalSpent != w.TotalSpent ||
			s.LastEventType != w.LastEventType || !sameString(s.LastCountry, w.LastCountry) || s.LastTS != w.LastTS {
			return fmt.Sprintf("no: %s got %+v, want %+v", k, s, w)
		}
	}
	return "yes"
}

func sameBig(a, b testkit.BigPurchase) bool {
	return a.UserID == b.UserID && a.Amount == b.Amount && sameString(a.Country, b.Country)
}

func sameString(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// chain folds v into a running FNV hash of a key's values in order.
func chain(h uint64, v []byte) uint64 {
	f := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(h >> (8 * i))
	}
	f.Write(b[:])
	f.Write(v)
	return f.Sum64()
}

// decodeStats decodes a framed UserStats output.
func decodeStats(s avro.Schema, frame []byte) (*contest.UserStats, error) {
	if len(frame) < 5 {
		return nil, fmt.Errorf("output %x is not a Confluent frame", frame)
	}
	var out contest.UserStats
	if err := avro.Unmarshal(s, frame[5:], &out); err != nil {
		return nil, fmt.Errorf("decoding output: %w", err)
	}
	return &out, nil
}

// latency starts contestant c again on an empty input of its own, waits
// until it answers, then produces at the fixed rate for the configured
// time, events stamped with the time they are produced, and notes for each
// output how long after its event's stamp it arrived.
func (h *harness) latency(ctx context.Context, c string, kind outputKind, r *result) error {
	input := h.run + "-" + c + "-latency-in"
	if err := h.createTopics(ctx, input); err != nil {
		return err
	}
	v1, v2, err := h.writers(ctx, input)
	if err != nil {
		return err
	}
	p, w, err := h.startContestant(ctx, c, h.topicsFor(input, c+"-latency"), false)
	if err != nil {
		return err
	}
	defer w.close()
	defer p.stop(30 * time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.brokers...), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.ProducerLinger(0), kgo.DefaultProduceTopic(input))
	if err != nil {
		return err
	}
	defer cl.Close()
	send := func(events []demo.Event) error {
		now := time.Now().UnixMilli()
		for j := range events {
			events[j].TS = now
		}
		recs, err := demo.Records(input, events, v1, v2, 1<<30)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			cl.Produce(ctx, rec, nil)
		}
		return nil
	}
	// A probe every 100 ms until the contestant has joined its group and
	// answers.
	deadline := time.Now().Add(h.o.timeout)
	for w.count() == 0 {
		if err := p.alive(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %s", c, h.o.timeout)
		}
		if err := send([]demo.Event{{Key: "probe", Kind: demo.KindValid, EventType: "login"}}); err != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	n := int(float64(h.o.rate) * h.o.latencyFor.Seconds())
	events := demo.GenerateEvents(h.o.seed+1, n, h.o.users, 0)
	expect := 0
	for _, e := range events {
		if kind == pipeOutputs || e.Kind == demo.KindValid {
			expect++
		}
	}
	phase := time.Now().UnixMilli()
	// Rounds of a hundredth of a second's events.
	batch := max(1, h.o.rate/100)
	limiter := rate.NewLimiter(rate.Limit(h.o.rate), batch)
	for i := 0; i < n; i += batch {
		if err := limiter.WaitN(ctx, batch); err != nil {
			return err
		}
		if err := send(events[i:min(i+batch, n)]); err != nil {
			return err
		}
	}
	var lat []time.Duration
	deadline = time.Now().Add(30 * time.Second)
	for from := 0; ; {
		recs := w.records(from)
		from += len(recs)
		for _, rec := range recs {
			ts, err := h.stampOf(ctx, kind, rec.value)
			if err != nil {
				return err
			}
			if ts >= phase {
				lat = append(lat, rec.at.Sub(time.UnixMilli(ts)))
			}
		}
		if len(lat) >= expect {
			break
		}
		if err := p.alive(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d outputs within 30s", len(lat), expect)
		}
		time.Sleep(10 * time.Millisecond)
	}
	slices.Sort(lat)
	r.latencyN = len(lat)
	r.p50 = lat[len(lat)/2]
	r.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	return nil
}

// stampOf is the event timestamp an output carries.
func (h *harness) stampOf(ctx context.Context, kind outputKind, value []byte) (int64, error) {
	if kind == pipeOutputs {
		e, err := h.codec.Decode(ctx, value)
		if err != nil {
			return 0, fmt.Errorf("decoding a piped event: %w", err)
		}
		return e.TS, nil
	}
	s, err := decodeStats(h.codec.StatsSchema(), value)
	if err != nil {
		return 0, err
	}
	return s.LastTS, nil
}

// drainW2 runs sluice's big-purchases on the backlog.
func (h *harness) drainW2(ctx context.Context, ws *w1Data) (r result) {
	r = result{workload: "W2", contestant: cSluiceMem, msgs: len(ws.events)}
	t := h.topicsFor(ws.input, "w2")
	if err := h.createTopics(ctx, t.output+"-big", t.dlq); err != nil {
		r.err = err
		return r
	}
	path, err := h.sluiceConfig("w2", t)
	if err != nil {
		r.err = err
		return r
	}
	p, err := startChild("sluice big-purchases", h.sluice, []string{"run", "-f", path, "--pipeline", "big-purchases",
		"--brokers", joinList(h.brokers), "--registry", h.env.RegistryURL(), "--log-level", "warn"}, nil)
	if err != nil {
		r.err = err
		return r
	}
	w, err := watch(h.brokers, t.output+"-big")
	if err != nil {
		r.err = err
		_, _ = p.stop(10 * time.Second)
		return r
	}
	defer w.close()
	defer func() {
		if u, err := p.stop(30 * time.Second); err == nil {
			r.peakRSS = u.peakRSS
		}
	}()
	want := testkit.CountEvents(ws.events).Big
	if err := h.measureDrain(ctx, p, w, want, &r); err != nil {
		r.err = err
		return r
	}
	r.exact = h.check(bigOutputs, w.records(0)[:want], ws)
	return r
}
