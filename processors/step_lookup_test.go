package processors_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/processors"
)

// tableReader is a LookupFunc over fixed rows that records its calls.
type tableReader struct {
	rows  map[string]map[string]any
	err   error
	calls []string
}

func (r *tableReader) lookup(table, key string) (map[string]any, error) {
	r.calls = append(r.calls, table+"/"+key)
	if r.err != nil {
		return nil, r.err
	}
	return r.rows[key], nil
}

func TestLookupFound(t *testing.T) {
	env := statelessEnv(t)
	l := build(t, processors.NewLookup, "lookup", "table: user-stats\nkey: user_id\nas: stats\n", env)
	// The variable is typed for the steps after the lookup.
	f := build(t, processors.NewFilter, "filter", `stats != nil && stats.events >= 2 && stats.last_country == country`, env)

	row := userStats("u7", 3, 1, 20, "view", "FR")
	r := &tableReader{rows: map[string]map[string]any{"u7": row}}
	m := processors.NewMessage("message-key", event("u7", "purchase", 1, "FR"), processors.Meta{})
	m.SetLookup(r.lookup)
	if got := process(t, l, m); got != processors.Continue {
		t.Fatalf("got %s", resultName(got))
	}
	if !reflect.DeepEqual(r.calls, []string{"user-stats/u7"}) {
		t.Errorf("lookups %v: the key expression was not used", r.calls)
	}
	if !reflect.DeepEqual(m.Vars()["stats"], row) {
		t.Errorf("stats = %#v", m.Vars()["stats"])
	}
	if got := process(t, f, m); got != processors.Continue {
		t.Errorf("filter over the looked-up row: %s", resultName(got))
	}
}

func TestLookupMissing(t *testing.T) {
	env := statelessEnv(t)
	l := build(t, processors.NewLookup, "lookup", "table: user-stats\nas: stats\n", env)
	f := build(t, processors.NewFilter, "filter", `stats == nil`, env)
	r := &tableReader{}
	m := processors.NewMessage("u1", event("u1", "purchase", 1, nil), processors.Meta{})
	m.SetLookup(r.lookup)
	if got := process(t, l, m); got != processors.Continue {
		t.Fatalf("got %s", resultName(got))
	}
	if !reflect.DeepEqual(r.calls, []string{"user-stats/u1"}) {
		t.Errorf("lookups %v: without key the message key is used", r.calls)
	}
	if v, ok := m.Vars()["stats"]; !ok || v != nil {
		t.Errorf("stats = %#v (set: %v), want null", v, ok)
	}
	if got := process(t, f, m); got != processors.Continue {
		t.Errorf("stats == nil: %s", resultName(got))
	}
}

func TestLookupRequiredMissing(t *testing.T) {
	l := build(t, processors.NewLookup, "lookup", "table: user-stats\nas: stats\nrequired: true\n", statelessEnv(t))
	m := processors.NewMessage("u1", event("u1", "purchase", 1, nil), processors.Meta{})
	m.SetLookup((&tableReader{}).lookup)
	res, err := l.Process(context.Background(), m)
	if res != processors.Drop || !errors.Is(err, processors.ErrMissingKey) {
		t.Fatalf("got %s, %v; want Drop and ErrMissingKey", resultName(res), err)
	}
	if err.Error() != "lookup user-stats[u1]: not found" {
		t.Errorf("error %q", err)
	}
}

func TestLookupErrors(t *testing.T) {
	l := build(t, processors.NewLookup, "lookup", "table: user-stats\nas: stats\n", statelessEnv(t))

	// A store error the reader marks transient stays transient through the step.
	m := processors.NewMessage("u1", event("u1", "purchase", 1, nil), processors.Meta{})
	m.SetLookup((&tableReader{err: processors.Transient(errors.New("table not recovered yet"))}).lookup)
	_, err := l.Process(context.Background(), m)
	if !errors.Is(err, processors.ErrTransient) || err.Error() != "lookup user-stats[u1]: table not recovered yet" {
		t.Errorf("error %v (transient: %v)", err, errors.Is(err, processors.ErrTransient))
	}

	// Without table access the step fails instead of guessing.
	m = processors.NewMessage("u1", event("u1", "purchase", 1, nil), processors.Meta{})
	if _, err := l.Process(context.Background(), m); err == nil {
		t.Error("a lookup without table access succeeded")
	}
}

func TestLookupConfigErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"table: user-stat\nas: stats\n", `step.yaml:1:8: no stateful pipeline named "user-stat" to look up (stateful pipelines: user-stats)`},
		{"table: user-stats\nas: amount\n", `step.yaml:2:5: "amount" is already a field of the record; choose another name`},
		{"table: user-stats\nas: state\n", `step.yaml:2:5: "state" is a reserved name; choose another`},
		{"table: user-stats\n", `step.yaml:1:1: missing required field "as"`},
		{"table: user-stats\nas: s\nrequired: maybe\n", `step.yaml:3:11: expected true or false, got "maybe"`},
	} {
		if got := configErrors(t, processors.NewLookup, "lookup", c.src, statelessEnv(t)); got != c.want {
			t.Errorf("lookup %q:\ngot  %s\nwant %s", c.src, got, c.want)
		}
	}
}
