package processors

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// fetchMessage is a message with a record, a state, meta and a lookup
// variable to read members of.
func fetchMessage(state map[string]any) *Message {
	m := NewMessage("u1", map[string]any{"user_id": "u1", "amount": 9.5, "country": nil, "ts": time.UnixMilli(5).UTC(),
		"nested": map[string]any{"x": int32(3)}, "list": []any{int64(1), int64(2)}},
		Meta{Topic: "t", Partition: 2, Offset: 7, Headers: map[string]string{"h": "v"}})
	m.LoadState(state, false)
	m.SetVar("profile", map[string]any{"tier": "gold"})
	return m
}

// TestFetchPatch: run-time programs that read members through fetch give
// what expr's own reads give, errors included, and read a record's fields
// without reflection.
func TestFetchPatch(t *testing.T) {
	sources := []string{
		"state.events + 1", `state["events"]`, "state.missing", "state?.events", "value.user_id", "user_id",
		"nested.x", "value.nested.x", "list[1]", "meta.topic", "meta.partition", "meta.timestamp", "meta.headers.h",
		"profile.tier", `profile["tier"] + "!"`, "country ?? state.last", "amount > 5 ? state.events : 0", "ts.UnixMilli()",
		"len(value.list)", "nested?.x",
	}
	for _, state := range []map[string]any{{"events": int64(3), "last": "FR"}, nil} {
		m := fetchMessage(state)
		for _, src := range sources {
			plain, err := expr.Compile(src, expr.Env(map[string]any{}), expr.AllowUndefinedVariables())
			if err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			patched, err := expr.Compile(src, expr.Env(map[string]any{varFetch: fetch}), expr.AllowUndefinedVariables(), expr.Patch(fetchPatch{}))
			if err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			want, wantErr := expr.Run(plain, m.Env())
			got, gotErr := vm.Run(patched, m.Env())
			if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
				t.Errorf("%s (state %v): error %v, expr's own %v", src, state, gotErr, wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s (state %v): %#v, expr's own %#v", src, state, got, want)
			}
		}
	}
	p, err := expr.Compile("state.events + 1", expr.Env(map[string]any{varFetch: fetch}), expr.AllowUndefinedVariables(), expr.Patch(fetchPatch{}))
	if err != nil {
		t.Fatal(err)
	}
	if code := p.Disassemble(); strings.Contains(code, "OpFetch") || !strings.Contains(code, "OpCallTyped") {
		t.Errorf("state.events compiled to\n%s", code)
	}
}

// BenchmarkFetch is an aggregate's `state.events + 1` read through fetch and
// through expr's own member read.
func BenchmarkFetch(b *testing.B) {
	m := fetchMessage(map[string]any{"events": int64(3)})
	m.Reuse(&Scratch{})
	for _, c := range []struct {
		name string
		opts []expr.Option
	}{
		{"expr", []expr.Option{expr.Env(map[string]any{})}},
		{"fetch", []expr.Option{expr.Env(map[string]any{varFetch: fetch}), expr.Patch(fetchPatch{})}},
	} {
		p, err := expr.Compile("state.events + 1", append(c.opts, expr.AllowUndefinedVariables())...)
		if err != nil {
			b.Fatal(err)
		}
		e := &Expr{Source: "state.events + 1", program: p}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Eval(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
