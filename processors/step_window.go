package processors

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/processors/config"
)

// window keeps event-time windows per key in the pipeline's group table and
// computes each window's state with init and set, like aggregate, with
// `window.start` and `window.end` (timestamps) in scope.
//
//   - window:
//     type: tumbling    # tumbling (size) | hopping (size, advance) | session (gap)
//     size: 5m
//     time: ts          # event time: a timestamp-millis or long field; default the record timestamp
//     grace: 1m         # lateness accepted after a window ends
//     emit: on_close    # on_close (the final result, once) | on_update (every change)
//     init: {user_id: key}
//     set: {purchases: state.purchases + 1}
//
// Windows are aligned to the Unix epoch and are [start, end) in Unix
// milliseconds. A session holds events no more than gap apart: it is
// [first event, last event + 1ms), and an event that bridges two sessions
// merges them with `merge` (fields over `state`, the earlier session's
// state, and `other`, the later one's) before set applies the event.
//
// Time is the partition's stream time: the largest event time that reached
// the step. A tumbling or hopping window closes when stream time reaches
// end + grace, a session when it reaches end + gap + grace (Kafka Streams'
// rule). A record whose windows have all closed fails with ErrLate: the
// runtime dead-letters it at stage window, kind late. A hopping record that
// still has an open window updates its open windows only.
//
// What the step does to a message: it updates the key's windows (SetWindows),
// sets the key's top-level state to the state of the last window it updated,
// and lists the windows to publish (WindowsToEmit): with on_update the
// windows it updated, with on_close none. The runtime runs the steps after
// the window step once for each, the value being the window's state with
// window_start and window_end set. With on_close the runtime itself
// publishes each window once stream time closes it (see the pipeline
// package's windows.go: a loopback to the window's key), and removes closed
// windows from the key's entry once their last output is acknowledged.
//
// A redelivered record whose effect the table already holds (Replayed) is
// not applied again; with on_update it publishes again the stored windows
// that hold its event time.
type window struct {
	kind      string
	size      int64 // ms; tumbling and hopping
	advance   int64 // ms; hopping (size for tumbling)
	gap       int64 // ms; session
	grace     int64 // ms
	timeField string
	onClose   bool

	schema     avro.Schema
	fields     []Field
	init       []fieldExpr
	set        []fieldExpr
	merge      []fieldExpr
	setSchemas []avro.Schema
	// kept are the state fields set leaves as they were, mergeKept those
	// merge leaves (taken from the later session).
	kept, mergeKept []string
	// hasStart and hasEnd say whether the state has window_start and
	// window_end, which the step sets from the window's bounds.
	hasStart, hasEnd bool
}

// Window is one window of a key: [Start, End) in Unix milliseconds, and its state.
type Window struct {
	Start, End int64
	State      map[string]any
}

// Windows are a key's windows as its table entry holds them.
type Windows struct {
	// StreamTime is the partition's stream time when the entry was written:
	// the largest stream time over a partition's entries is its stream time.
	StreamTime int64
	// Open are the key's windows, sorted by Start then End. A closed window
	// stays until the runtime removes it, once it is published.
	Open []Window
}

// NoStreamTime is the stream time of a partition no event has reached.
const NoStreamTime int64 = math.MinInt64

// WindowCloser is what the runtime needs of a window step to close windows.
type WindowCloser interface {
	// CloseAt is the stream time from which w is closed.
	CloseAt(w Window) int64
	// EmitOnClose reports whether a window is published when it closes
	// (on_close) rather than at each change (on_update).
	EmitOnClose() bool
	// Result is what the steps after the window step get for window w.
	Result(w Window) map[string]any
}

// ErrLate marks a record whose windows have closed; the runtime
// dead-letters it as kind late.
var ErrLate = errors.New("late")

// Names the window step puts in scope.
const (
	VarWindow = "window"
	// VarOther is the later session's state in merge expressions.
	VarOther = "other"
)

// Window fields the step sets in a window's state and result.
const (
	FieldWindowStart = "window_start"
	FieldWindowEnd   = "window_end"
)

// windowType is the type of `window`: {start, end} timestamps.
var windowType = &Type{Fields: []Field{{Name: "start", Go: typeTime}, {Name: "end", Go: typeTime}}}

// NewWindow builds a window step.
func NewWindow(spec *Spec) (Step, error) {
	w := &window{onClose: true}
	m := spec.Config.Map()
	if m == nil {
		return w, nil
	}
	st := spec.Env.State
	if !st.IsRecord() {
		spec.Errorf("window needs the pipeline's state schema (state: {schema: FILE}), the state of one window")
		m.Entries()
		return w, nil
	}
	w.schema, w.fields = st.Schema, st.Fields
	w.readShape(m)
	w.grace = durationMillis(m.Get("grace"), false)
	if n := m.Get("emit"); n != nil {
		switch s := n.String(); s {
		case "on_close":
		case "on_update":
			w.onClose = false
		default:
			n.Errorf("emit must be on_close or on_update, got %q", s)
		}
	}
	if n := m.Get("time"); n != nil {
		w.timeField = n.String()
		checkTimeField(n, spec.Env.Value, w.timeField)
	}
	_, w.hasStart = st.Field(FieldWindowStart)
	_, w.hasEnd = st.Field(FieldWindowEnd)
	for _, name := range []string{FieldWindowStart, FieldWindowEnd} {
		if f, ok := st.Field(name); ok && f.Go != typeTime && f.Go != reflect.TypeOf(int64(0)) {
			spec.Errorf("state field %q holds the window's bound: it must be a long or timestamp-millis, not %s", name, typeName(f.Go))
		}
	}

	env := spec.Env.Clone()
	env.Vars[VarWindow] = windowType
	w.init = readFieldExprs(m.Get("init"), env, st)
	w.set = readFieldExprs(m.Get("set"), env, st)
	if !m.Has("set") {
		m.Node().Errorf("missing required field %q", "set")
	}
	set := map[string]bool{}
	for _, f := range w.set {
		sf, _ := st.Field(f.name)
		w.setSchemas = append(w.setSchemas, sf.Schema)
		set[f.name] = true
	}
	if n := m.Get("merge"); n != nil {
		if w.kind != windowSession {
			n.Errorf("merge applies to session windows only")
		}
		mergeEnv := env.Clone()
		mergeEnv.Vars[VarOther] = st
		w.merge = readFieldExprs(n, mergeEnv, st)
	} else if w.kind == windowSession {
		m.Node().Errorf("session windows need merge: {field: expression over state and other}, to join two sessions an event bridges")
	}
	merged := map[string]bool{}
	for _, f := range w.merge {
		merged[f.name] = true
	}
	for _, f := range w.fields {
		if !set[f.Name] {
			w.kept = append(w.kept, f.Name)
		}
		if !merged[f.Name] {
			w.mergeKept = append(w.mergeKept, f.Name)
		}
	}
	m.Done()

	// The steps after see a window's result, and `window`.
	result := &Type{Schema: st.Schema, Fields: slices.Clone(st.Fields)}
	if !w.hasStart {
		result.Fields = append(result.Fields, Field{Name: FieldWindowStart, Go: typeTime})
	}
	if !w.hasEnd {
		result.Fields = append(result.Fields, Field{Name: FieldWindowEnd, Go: typeTime})
	}
	spec.Env.Value = result
	spec.Env.Vars[VarWindow] = windowType
	return w, nil
}

// Window types.
const (
	windowTumbling = "tumbling"
	windowHopping  = "hopping"
	windowSession  = "session"
)

// readShape reads type and the durations that go with it.
func (w *window) readShape(m *config.Map) {
	n := m.Need("type")
	if n == nil {
		return
	}
	w.kind = n.String()
	only := func(key, kinds string, ok bool) {
		if k := m.Get(key); k != nil && !ok {
			k.Errorf("%s applies to %s windows only, not %s", key, kinds, w.kind)
		}
	}
	switch w.kind {
	case windowTumbling:
		w.size = durationMillis(m.Need("size"), true)
		w.advance = w.size
	case windowHopping:
		w.size = durationMillis(m.Need("size"), true)
		if a := m.Need("advance"); a != nil {
			w.advance = durationMillis(a, true)
			if w.advance > w.size {
				a.Errorf("advance %s is longer than size %s: events between windows would belong to none", time.Duration(w.advance)*time.Millisecond, time.Duration(w.size)*time.Millisecond)
			}
		}
	case windowSession:
		w.gap = durationMillis(m.Need("gap"), true)
	default:
		n.Errorf("window type must be tumbling, hopping or session, got %q", w.kind)
		m.Get("size")
		m.Get("advance")
		m.Get("gap")
		return
	}
	only("size", "tumbling and hopping", w.kind != windowSession)
	only("advance", "hopping", w.kind == windowHopping)
	only("gap", "session", w.kind == windowSession)
}

// durationMillis reads a duration in whole milliseconds; positive ones
// must be more than zero.
func durationMillis(n *config.Node, positive bool) int64 {
	if n == nil {
		return 0
	}
	before := n.Reporter().Len()
	d := n.Duration()
	switch {
	case n.Reporter().Len() > before:
	case d%time.Millisecond != 0:
		n.Errorf("duration %s is not a whole number of milliseconds", d)
	case positive && d <= 0:
		n.Errorf("duration must be more than 0")
	}
	return d.Milliseconds()
}

// checkTimeField reports a time field the record lacks or that holds no time.
func checkTimeField(n *config.Node, t *Type, name string) {
	if !t.IsRecord() {
		return // checked at run time
	}
	f, ok := t.Field(name)
	if !ok {
		checkField(n, t, name, nil)
		return
	}
	switch {
	case f.Go == typeTime || f.Go == reflect.TypeOf(int64(0)):
	case f.Go == nil || f.Go == typeAny:
		n.Errorf("time field %q is a union: it must be a timestamp-millis or a long of Unix milliseconds, never null", name)
	default:
		n.Errorf("time field %q is %s: it must be a timestamp-millis or a long of Unix milliseconds", name, typeName(f.Go))
	}
}

// readFieldExprs compiles a mapping of state fields to expressions.
func readFieldExprs(n *config.Node, env *Env, st *Type) []fieldExpr {
	if n == nil {
		return nil
	}
	fm := n.Map()
	if fm == nil {
		return nil
	}
	var out []fieldExpr
	for _, e := range fm.Entries() {
		x := CompileExpr(e.Value, env, false)
		checkField(e.KeyNode, st, e.Key, x)
		out = append(out, fieldExpr{name: e.Key, expr: x})
	}
	return out
}

// CloseAt is the stream time from which w is closed.
func (w *window) CloseAt(win Window) int64 {
	if w.kind == windowSession {
		return win.End + w.gap + w.grace
	}
	return win.End + w.grace
}

// EmitOnClose reports whether windows are published when they close.
func (w *window) EmitOnClose() bool { return w.onClose }

// Result is the window's state with window_start and window_end set.
func (w *window) Result(win Window) map[string]any {
	out := make(map[string]any, len(win.State)+2)
	maps.Copy(out, win.State)
	w.setBounds(out, win)
	return out
}

func (w *window) setBounds(state map[string]any, win Window) {
	start, end := any(time.UnixMilli(win.Start).UTC()), any(time.UnixMilli(win.End).UTC())
	if f, ok := w.field(FieldWindowStart); ok && f.Go != typeTime {
		start = win.Start
	}
	if f, ok := w.field(FieldWindowEnd); ok && f.Go != typeTime {
		end = win.End
	}
	state[FieldWindowStart], state[FieldWindowEnd] = start, end
}

func (w *window) field(name string) (Field, bool) {
	for _, f := range w.fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

func (w *window) Process(_ context.Context, m *Message) (Result, error) {
	t, err := w.eventTime(m)
	if err != nil {
		return Drop, err
	}
	cur := m.windows
	if cur == nil {
		cur = &Windows{StreamTime: NoStreamTime}
	}
	streamTime := max(cur.StreamTime, t)
	if m.replayed && m.windows != nil {
		// The table holds this record's effect already.
		if !w.onClose {
			for _, win := range cur.Open {
				if w.holds(win, t) {
					m.emitWindows = append(m.emitWindows, win)
				}
			}
		}
		return w.next(m)
	}
	var open, updated []Window
	if w.kind == windowSession {
		open, updated, err = w.session(m, cur.Open, t, streamTime)
	} else {
		open, updated, err = w.fixed(m, cur.Open, t, streamTime)
	}
	if err != nil {
		return Drop, err
	}
	m.SetWindows(&Windows{StreamTime: streamTime, Open: open})
	m.SetState(updated[len(updated)-1].State)
	if !w.onClose {
		m.emitWindows = updated
	}
	return w.next(m)
}

// next sets the message's value to the last window to publish, for a
// runtime that runs the following steps once: the pipeline runtime runs
// them once per window to publish.
func (w *window) next(m *Message) (Result, error) {
	if len(m.emitWindows) == 0 {
		return Drop, nil
	}
	last := m.emitWindows[len(m.emitWindows)-1]
	m.SetValue(w.Result(last))
	m.SetVar(VarWindow, windowVar(last))
	return Continue, nil
}

// holds reports whether event time t falls in win.
func (w *window) holds(win Window, t int64) bool {
	return win.Start <= t && t < win.End
}

// fixed updates the tumbling or hopping windows of event time t.
func (w *window) fixed(m *Message, stored []Window, t, streamTime int64) (open, updated []Window, err error) {
	open = slices.Clone(stored)
	var last Window
	for _, start := range w.starts(t) {
		win := Window{Start: start, End: start + w.size}
		last = win
		if w.CloseAt(win) <= streamTime {
			continue
		}
		i, found := slices.BinarySearchFunc(open, win, compareWindows)
		var prev map[string]any
		if found {
			prev = open[i].State
		}
		if win.State, err = w.apply(m, win, prev); err != nil {
			return nil, nil, err
		}
		if found {
			open[i] = win
		} else {
			open = slices.Insert(open, i, win)
		}
		updated = append(updated, win)
	}
	if len(updated) == 0 {
		return nil, nil, w.late(t, last, streamTime)
	}
	return open, updated, nil
}

// starts are the starts of the windows that hold t, ascending.
func (w *window) starts(t int64) []int64 {
	last := floorDiv(t, w.advance) * w.advance
	var out []int64
	for s := last; s > t-w.size; s -= w.advance {
		out = append(out, s)
	}
	slices.Reverse(out)
	return out
}

// session adds event time t to the key's sessions: a new one, or the open
// sessions t is within gap of, merged.
func (w *window) session(m *Message, stored []Window, t, streamTime int64) (open, updated []Window, err error) {
	merged := Window{Start: t, End: t + 1}
	var parts []Window
	for _, s := range stored {
		if w.CloseAt(s) > streamTime && t >= s.Start-w.gap && t < s.End+w.gap {
			parts = append(parts, s)
			merged.Start, merged.End = min(merged.Start, s.Start), max(merged.End, s.End)
		} else {
			open = append(open, s)
		}
	}
	if w.CloseAt(merged) <= streamTime {
		return nil, nil, w.late(t, merged, streamTime)
	}
	var prev map[string]any
	if len(parts) > 0 {
		prev = parts[0].State
		for _, p := range parts[1:] {
			if prev, err = w.mergeStates(m, prev, p.State); err != nil {
				return nil, nil, err
			}
		}
	}
	if merged.State, err = w.apply(m, merged, prev); err != nil {
		return nil, nil, err
	}
	i, _ := slices.BinarySearchFunc(open, merged, compareWindows)
	open = slices.Insert(open, i, merged)
	return open, []Window{merged}, nil
}

func compareWindows(a, b Window) int {
	return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (w *window) late(t int64, win Window, streamTime int64) error {
	return fmt.Errorf("%w: event time %s is in window [%s, %s), closed since stream time %s (grace %s); stream time is %s",
		ErrLate, millis(t), millis(win.Start), millis(win.End), millis(w.CloseAt(win)),
		time.Duration(w.grace)*time.Millisecond, millis(streamTime))
}

func millis(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// eventTime is the record's event time in Unix milliseconds.
func (w *window) eventTime(m *Message) (int64, error) {
	if w.timeField == "" {
		return m.meta.Timestamp.UnixMilli(), nil
	}
	rec, _ := m.value.(map[string]any)
	v, ok := rec[w.timeField]
	if !ok || v == nil {
		return 0, invalidf("time field %s is missing or null", w.timeField)
	}
	switch x := v.(type) {
	case time.Time:
		return x.UnixMilli(), nil
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case int:
		return int64(x), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<62 {
			return int64(x), nil
		}
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
	}
	return 0, invalidf("time field %s is %T %v, not a timestamp or Unix milliseconds", w.timeField, v, v)
}

// windowVar is `window` in expressions.
func windowVar(win Window) map[string]any {
	return map[string]any{"start": time.UnixMilli(win.Start).UTC(), "end": time.UnixMilli(win.End).UTC()}
}

// apply computes window win's next state from prev (nil for a new window)
// and the message's event.
func (w *window) apply(m *Message, win Window, prev map[string]any) (map[string]any, error) {
	m.SetVar(VarWindow, windowVar(win))
	if prev == nil {
		first, err := w.initial(m)
		if err != nil {
			return nil, err
		}
		c, err := codecs.Coerce(w.schema, first)
		if err != nil {
			return nil, fmt.Errorf("new window state: %w", err)
		}
		prev = c.(map[string]any)
	}
	m.state, m.env = prev, nil
	next := make(map[string]any, len(w.fields))
	for _, k := range w.kept {
		if v, ok := prev[k]; ok {
			next[k] = v
		}
	}
	if err := w.assign(m, next, w.set, w.setSchemas); err != nil {
		return nil, err
	}
	w.setBounds(next, win)
	return w.coerceBounds(next)
}

// coerceBounds makes the window fields canonical for the state schema.
func (w *window) coerceBounds(state map[string]any) (map[string]any, error) {
	for _, name := range []string{FieldWindowStart, FieldWindowEnd} {
		f, ok := w.field(name)
		if !ok {
			delete(state, name)
			continue
		}
		c, err := codecs.Coerce(f.Schema, state[name])
		if err != nil {
			return nil, fmt.Errorf("window state field %s: %w", name, err)
		}
		state[name] = c
	}
	return state, nil
}

// assign evaluates fields into next, each coerced to its schema.
func (w *window) assign(m *Message, next map[string]any, fields []fieldExpr, schemas []avro.Schema) error {
	for i, f := range fields {
		v, err := f.expr.Eval(m)
		if err != nil {
			return fmt.Errorf("field %s: %w", f.name, err)
		}
		var s avro.Schema
		if schemas != nil {
			s = schemas[i]
		} else if sf, ok := w.field(f.name); ok {
			s = sf.Schema
		}
		if s == nil {
			continue
		}
		c, err := codecs.Coerce(s, v)
		if err != nil {
			return fmt.Errorf("window state field %s: %w", f.name, err)
		}
		next[f.name] = c
	}
	return nil
}

// mergeStates joins two sessions' states: merge's fields, the others from later.
func (w *window) mergeStates(m *Message, earlier, later map[string]any) (map[string]any, error) {
	m.state = earlier
	m.SetVar(VarOther, later)
	out := make(map[string]any, len(w.fields))
	for _, k := range w.mergeKept {
		if v, ok := later[k]; ok {
			out[k] = v
		}
	}
	if err := w.assign(m, out, w.merge, nil); err != nil {
		return nil, fmt.Errorf("merging sessions: %w", err)
	}
	return out, nil
}

func (w *window) initial(m *Message) (map[string]any, error) {
	m.state, m.env = nil, nil
	st := make(map[string]any, len(w.fields))
	rs, _ := deref(w.schema).(*avro.RecordSchema)
	for i, f := range w.fields {
		if rs != nil && rs.Fields()[i].HasDefault() {
			st[f.Name] = rs.Fields()[i].Default()
			continue
		}
		st[f.Name] = zeroFor(f.Go)
	}
	for _, f := range w.init {
		v, err := f.expr.Eval(m)
		if err != nil {
			return nil, fmt.Errorf("init field %s: %w", f.name, err)
		}
		st[f.name] = v
	}
	return st, nil
}

// Windows returns the key's windows: those the table held, or those a
// window step set (nil in a pipeline without a window step).
func (m *Message) Windows() *Windows { return m.windows }

// SetWindows replaces the key's windows and marks the state changed.
func (m *Message) SetWindows(w *Windows) {
	m.windows = w
	m.stateChanged = true
}

// LoadWindows gives the message the windows its key's table entry holds
// (the runtime calls it before the steps).
func (m *Message) LoadWindows(w *Windows) { m.windows = w }

// WindowsToEmit are the windows a window step asks the runtime to publish
// for this message (see window).
func (m *Message) WindowsToEmit() []Window { return m.emitWindows }
