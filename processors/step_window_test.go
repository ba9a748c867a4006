package processors_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/processors"
)

// windowEnv is the env of a window step over UserEvents whose window state
// is UserPurchases5m (the reference user-purchases-5m pipeline).
func windowEnv(t testing.TB) *processors.Env {
	t.Helper()
	env := statelessEnv(t, "purchases")
	s, err := codecs.NewSchemas().ParseFile("../schemas/user_purchases_5m.avsc")
	if err != nil {
		t.Fatal(err)
	}
	env.State = processors.TypeOf(s)
	return env
}

// windowSrc is a window step counting purchases; shape gives its type and
// durations.
func windowSrc(shape, emit string) string {
	src := shape + `
time: ts
emit: ` + emit + `
init:
  user_id: key
set:
  purchases: state.purchases + 1
  total_spent: state.total_spent + amount
`
	if strings.Contains(shape, "session") {
		src += `merge:
  purchases: state.purchases + other.purchases
  total_spent: state.total_spent + other.total_spent
`
	}
	return src
}

// windowDriver plays the runtime's part for a window step: it keeps each
// key's windows and the stream time, and closes windows as the pipeline
// runtime does (at CloseAt, publishing with on_close).
type windowDriver struct {
	t       *testing.T
	step    processors.Step
	closer  processors.WindowCloser
	keys    map[string]*processors.Windows
	time    int64
	updates []windowOut // published at a change (on_update)
	closed  []windowOut // published at close (on_close)
	late    int
}

type windowOut struct {
	key   string
	value map[string]any
}

func newWindowDriver(t *testing.T, src string) *windowDriver {
	step := build(t, processors.NewWindow, "window", src, windowEnv(t))
	return &windowDriver{t: t, step: step, closer: step.(processors.WindowCloser),
		keys: map[string]*processors.Windows{}, time: processors.NoStreamTime}
}

func (d *windowDriver) send(e timedEvent) {
	d.t.Helper()
	ev := event(e.user, "purchase", e.amount, nil)
	ev["ts"] = time.UnixMilli(e.ms).UTC()
	m := processors.NewMessage(e.user, ev, processors.Meta{})
	var open []processors.Window
	if ws := d.keys[e.user]; ws != nil {
		open = ws.Open
	}
	m.LoadWindows(&processors.Windows{StreamTime: d.time, Open: open})
	_, err := d.step.Process(context.Background(), m)
	if errors.Is(err, processors.ErrLate) {
		d.late++
		if m.StateChanged() {
			d.t.Fatalf("a late record changed the state")
		}
		return
	}
	if err != nil {
		d.t.Fatalf("event %+v: %v", e, err)
	}
	d.keys[e.user] = m.Windows()
	d.time = m.Windows().StreamTime
	for _, w := range m.WindowsToEmit() {
		d.updates = append(d.updates, windowOut{e.user, d.closer.Result(w)})
	}
	d.close()
}

// close removes the windows stream time has closed, publishing them with
// on_close, in key order.
func (d *windowDriver) close() {
	keys := make([]string, 0, len(d.keys))
	for k := range d.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ws := d.keys[k]
		var kept []processors.Window
		for _, w := range ws.Open {
			if d.closer.CloseAt(w) > d.time {
				kept = append(kept, w)
				continue
			}
			if d.closer.EmitOnClose() {
				d.closed = append(d.closed, windowOut{k, d.closer.Result(w)})
			}
		}
		d.keys[k] = &processors.Windows{StreamTime: ws.StreamTime, Open: kept}
	}
}

// flush closes every window (stream time at the end of time).
func (d *windowDriver) flush() {
	d.time = 1 << 62
	d.close()
}

// timedEvent is a purchase of user at ms.
type timedEvent struct {
	user   string
	ms     int64
	amount float64
}

// purchases generates n purchases of 3 users over about span, arriving
// out of order by up to jitter; amounts are whole, so sums are exact.
func purchases(seed uint64, n int, span, jitter time.Duration) []timedEvent {
	rng := rand.New(rand.NewPCG(seed, 0))
	base := int64(1_700_000_000_000) // not aligned to 5m on purpose
	out := make([]timedEvent, n)
	for i := range out {
		at := base + int64(i)*span.Milliseconds()/int64(n) - rng.Int64N(jitter.Milliseconds()+1)
		out[i] = timedEvent{user: fmt.Sprintf("u%d", rng.IntN(3)), ms: at, amount: float64(rng.IntN(100))}
	}
	return out
}

// expected is one window's final result as the test computes it.
type expected struct {
	user       string
	start, end int64
	purchases  int64
	spent      float64
}

func (e expected) value() map[string]any {
	return map[string]any{"user_id": e.user, "window_start": time.UnixMilli(e.start).UTC(), "window_end": time.UnixMilli(e.end).UTC(),
		"purchases": e.purchases, "total_spent": e.spent}
}

// fixedWindows computes the final windows of size and advance with grace
// over events in arrival order: a window takes an event unless the largest
// event time seen so far (the event's own included) has reached its end +
// grace. lateCount counts the events no window took.
func fixedWindows(events []timedEvent, size, advance, grace time.Duration) (out []expected, lateCount int) {
	sz, adv, gr := size.Milliseconds(), advance.Milliseconds(), grace.Milliseconds()
	type wkey struct {
		user  string
		start int64
	}
	acc := map[wkey]*expected{}
	seen := int64(-1 << 62)
	for _, e := range events {
		seen = max(seen, e.ms)
		took := false
		// Every window [s, s+size) with s a multiple of advance holding e.
		first := e.ms - e.ms%adv - (sz/adv-1)*adv
		for s := first; s <= e.ms; s += adv {
			if s+sz <= e.ms || s+sz+gr <= seen {
				continue
			}
			k := wkey{e.user, s}
			if acc[k] == nil {
				acc[k] = &expected{user: e.user, start: s, end: s + sz}
			}
			acc[k].purchases++
			acc[k].spent += e.amount
			took = true
		}
		if !took {
			lateCount++
		}
	}
	for _, v := range acc {
		out = append(out, *v)
	}
	return out, lateCount
}

// sessions computes the sessions of events none of which is late: per
// user, event times sorted, a new session after a pause longer than gap.
func sessions(events []timedEvent, gap time.Duration) []expected {
	byUser := map[string][]timedEvent{}
	for _, e := range events {
		byUser[e.user] = append(byUser[e.user], e)
	}
	var out []expected
	for user, es := range byUser {
		slices.SortFunc(es, func(a, b timedEvent) int { return int(a.ms - b.ms) })
		cur := expected{user: user, start: es[0].ms}
		last := es[0].ms
		for _, e := range es {
			if e.ms-last > gap.Milliseconds() {
				cur.end = last + 1
				out = append(out, cur)
				cur = expected{user: user, start: e.ms}
			}
			cur.purchases++
			cur.spent += e.amount
			last = e.ms
		}
		cur.end = last + 1
		out = append(out, cur)
	}
	return out
}

// compareWindows checks got (the published results) against want, as sets.
func compareWindows(t *testing.T, what string, got []windowOut, want []expected) {
	t.Helper()
	format := func(v map[string]any) string {
		return fmt.Sprintf("%s [%d, %d) purchases=%d spent=%.0f", v["user_id"], v["window_start"].(time.Time).UnixMilli(),
			v["window_end"].(time.Time).UnixMilli(), v["purchases"], v["total_spent"])
	}
	var g, w []string
	for _, o := range got {
		if o.key != o.value["user_id"] {
			t.Errorf("%s: key %s, user_id %v", what, o.key, o.value["user_id"])
		}
		g = append(g, format(o.value))
	}
	for _, e := range want {
		w = append(w, format(e.value()))
	}
	sort.Strings(g)
	sort.Strings(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s:\ngot  %d windows\n  %s\nwant %d windows\n  %s", what, len(g), strings.Join(g, "\n  "), len(w), strings.Join(w, "\n  "))
	}
}

// lastUpdates keeps the last published value of each window.
func lastUpdates(outs []windowOut) []windowOut {
	type wk struct {
		key   string
		start time.Time
	}
	last := map[wk]int{}
	var order []wk
	for i, o := range outs {
		k := wk{o.key, o.value["window_start"].(time.Time)}
		if _, ok := last[k]; !ok {
			order = append(order, k)
		}
		last[k] = i
	}
	out := make([]windowOut, 0, len(order))
	for _, k := range order {
		out = append(out, outs[last[k]])
	}
	return out
}

func TestWindowTumbling(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	events := purchases(seed, 400, 2*time.Hour, 3*time.Minute)
	want, late := fixedWindows(events, 5*time.Minute, 5*time.Minute, time.Minute)
	if late == 0 {
		t.Fatalf("seed %d: the data has no late event to test", seed)
	}
	for _, emit := range []string{"on_close", "on_update"} {
		t.Run(emit, func(t *testing.T) {
			d := newWindowDriver(t, windowSrc("type: tumbling\nsize: 5m\ngrace: 1m", emit))
			for _, e := range events {
				d.send(e)
			}
			d.flush()
			if d.late != late {
				t.Errorf("%d late records, want %d", d.late, late)
			}
			if emit == "on_close" {
				if len(d.updates) != 0 {
					t.Errorf("on_close published %d updates", len(d.updates))
				}
				compareWindows(t, "closed windows", d.closed, want)
				return
			}
			if len(d.closed) != 0 {
				t.Errorf("on_update published %d windows at close", len(d.closed))
			}
			if n := len(events) - late; len(d.updates) != n {
				t.Errorf("on_update published %d updates, want one per record in time: %d", len(d.updates), n)
			}
			compareWindows(t, "last updates", lastUpdates(d.updates), want)
		})
	}
}

func TestWindowHopping(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	events := purchases(seed, 300, 2*time.Hour, 4*time.Minute)
	want, late := fixedWindows(events, 10*time.Minute, 5*time.Minute, time.Minute)
	d := newWindowDriver(t, windowSrc("type: hopping\nsize: 10m\nadvance: 5m\ngrace: 1m", "on_close"))
	for _, e := range events {
		d.send(e)
	}
	d.flush()
	if d.late != late {
		t.Errorf("%d late records, want %d", d.late, late)
	}
	compareWindows(t, "closed windows", d.closed, want)
}

func TestWindowSession(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	// Bursts of events with pauses: within a burst events are a minute or
	// so apart, bursts are 10 to 40 minutes apart; each burst arrives
	// shuffled, so that sessions form apart and are merged.
	rng := rand.New(rand.NewPCG(seed, 1))
	var events []timedEvent
	at := int64(1_700_000_000_000)
	for burst := 0; burst < 30; burst++ {
		var b []timedEvent
		for i := 0; i < 2+rng.IntN(8); i++ {
			at += rng.Int64N(90_000)
			b = append(b, timedEvent{user: fmt.Sprintf("u%d", rng.IntN(3)), ms: at, amount: float64(rng.IntN(100))})
		}
		rng.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
		events = append(events, b...)
		at += (10 + rng.Int64N(30)) * time.Minute.Milliseconds()
	}
	want := sessions(events, 5*time.Minute)
	d := newWindowDriver(t, windowSrc("type: session\ngap: 5m\ngrace: 15m", "on_close"))
	for _, e := range events {
		d.send(e)
	}
	d.flush()
	if d.late != 0 {
		t.Errorf("%d late records, want none", d.late)
	}
	compareWindows(t, "sessions", d.closed, want)
}

// TestWindowSessionMerge: an event between two sessions of a key joins them.
func TestWindowSessionMerge(t *testing.T) {
	d := newWindowDriver(t, windowSrc("type: session\ngap: 10m\ngrace: 1h", "on_update"))
	min := time.Minute.Milliseconds()
	for _, e := range []timedEvent{{"u1", 0, 1}, {"u1", 15 * min, 2}, {"u1", 8 * min, 4}} {
		d.send(e)
	}
	ws := d.keys["u1"].Open
	if len(ws) != 1 || ws[0].Start != 0 || ws[0].End != 15*min+1 {
		t.Fatalf("sessions %+v, want one [0, 15m+1ms)", ws)
	}
	if got := ws[0].State; got["purchases"] != int64(3) || got["total_spent"] != 7.0 {
		t.Errorf("merged state %v, want 3 purchases for 7", got)
	}
}

// TestWindowLate: a record for a closed window fails with ErrLate, naming
// the window and the stream time; a redelivered record is not applied
// twice.
func TestWindowLate(t *testing.T) {
	step := build(t, processors.NewWindow, "window", windowSrc("type: tumbling\nsize: 5m\ngrace: 1m", "on_update"), windowEnv(t))
	min := time.Minute.Milliseconds()
	send := func(ms, streamTime int64, open []processors.Window, replayed bool) (*processors.Message, error) {
		ev := event("u1", "purchase", 10, nil)
		ev["ts"] = time.UnixMilli(ms).UTC()
		m := processors.NewMessage("u1", ev, processors.Meta{})
		m.LoadWindows(&processors.Windows{StreamTime: streamTime, Open: open})
		m.LoadState(nil, replayed)
		_, err := step.Process(context.Background(), m)
		return m, err
	}
	m, err := send(4*min, 0, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	open := m.Windows().Open
	// Stream time 6m: [0, 5m) closed at 5m + 1m grace.
	_, err = send(4*min, 6*min, open, false)
	if !errors.Is(err, processors.ErrLate) || !strings.Contains(err.Error(), "[1970-01-01T00:00:00.000Z, 1970-01-01T00:05:00.000Z)") {
		t.Errorf("got %v, want ErrLate naming the window", err)
	}
	// Within grace it still counts.
	m, err = send(4*min, 6*min-1, open, false)
	if err != nil || m.Windows().Open[0].State["purchases"] != int64(2) {
		t.Fatalf("record within grace: %v, windows %+v", err, m.Windows())
	}
	// A replayed record publishes its window again, unchanged.
	open = m.Windows().Open
	m, err = send(4*min, 6*min-1, open, true)
	if err != nil || m.StateChanged() || len(m.WindowsToEmit()) != 1 || m.WindowsToEmit()[0].State["purchases"] != int64(2) {
		t.Errorf("replayed: err %v, changed %v, to emit %+v", err, m.StateChanged(), m.WindowsToEmit())
	}
}

// TestWindowResult: the value the steps after get is the window's state
// with its bounds, and `window` is in scope.
func TestWindowResult(t *testing.T) {
	step := build(t, processors.NewWindow, "window", windowSrc("type: tumbling\nsize: 5m", "on_update"), windowEnv(t))
	ev := event("u1", "purchase", 10, nil)
	ev["ts"] = time.UnixMilli(7 * time.Minute.Milliseconds()).UTC()
	m := processors.NewMessage("u1", ev, processors.Meta{})
	m.LoadWindows(&processors.Windows{StreamTime: processors.NoStreamTime})
	if got := process(t, step, m); got != processors.Continue {
		t.Fatalf("got %s", resultName(got))
	}
	want := expected{user: "u1", start: 5 * time.Minute.Milliseconds(), end: 10 * time.Minute.Milliseconds(), purchases: 1, spent: 10}.value()
	if !reflect.DeepEqual(m.Value(), want) {
		t.Errorf("value %#v\nwant %#v", m.Value(), want)
	}
	if !reflect.DeepEqual(m.State(), want) {
		t.Errorf("top-level state %#v\nwant %#v", m.State(), want)
	}
}

func TestWindowConfigProblems(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"type: weekly\nset: {purchases: 1}", `step.yaml:1:7: window type must be tumbling, hopping or session, got "weekly"`},
		{"type: tumbling\nset: {purchases: 1}", `step.yaml:1:1: missing required field "size"`},
		{"type: tumbling\nsize: 5 minutes\nset: {purchases: 1}", `step.yaml:2:7: expected a duration such as 500ms or 10s, got "5 minutes"`},
		{"type: tumbling\nsize: 0s\nset: {purchases: 1}", "step.yaml:2:7: duration must be more than 0"},
		{"type: tumbling\nsize: 1500us\nset: {purchases: 1}", "step.yaml:2:7: duration 1.5ms is not a whole number of milliseconds"},
		{"type: hopping\nsize: 5m\nadvance: 10m\nset: {purchases: 1}", "step.yaml:3:10: advance 10m0s is longer than size 5m0s"},
		{"type: tumbling\nsize: 5m\ngap: 1m\nset: {purchases: 1}", "step.yaml:3:6: gap applies to session windows only, not tumbling"},
		{"type: session\ngap: 5m\nset: {purchases: 1}", "step.yaml:1:1: session windows need merge"},
		{"type: tumbling\nsize: 5m\ntime: event_type\nset: {purchases: 1}", `step.yaml:3:7: time field "event_type" is string: it must be a timestamp-millis or a long of Unix milliseconds`},
		{"type: tumbling\nsize: 5m\ntime: when\nset: {purchases: 1}", `step.yaml:3:7: unknown field "when"`},
		{"type: tumbling\nsize: 5m\nemit: sometimes\nset: {purchases: 1}", `step.yaml:3:7: emit must be on_close or on_update, got "sometimes"`},
		{"type: tumbling\nsize: 5m\nset: {purchases: event_type}", `step.yaml:3:7: field "purchases" is integer but the expression "event_type" gives string`},
	} {
		got := configErrors(t, processors.NewWindow, "window", c.src, windowEnv(t))
		if !strings.Contains(got, c.want) {
			t.Errorf("%q:\ngot  %s\nwant %s", c.src, got, c.want)
		}
	}
}
