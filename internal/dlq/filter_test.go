package dlq_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/dlq"
	"github.com/sluicehq/sluice/internal/render"
)

func TestCompileFilterErrors(t *testing.T) {
	for src, want := range map[string]string{
		`stag == "validate"`: "unknown name stag",
		`stage`:              "expected bool",
		`attempts + "x"`:     "invalid operation",
		`stage ==`:           "unexpected token",
	} {
		_, err := dlq.CompileFilter(src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CompileFilter(%q) = %v, want an error containing %q", src, err, want)
		}
	}
}

func TestFilterMatch(t *testing.T) {
	l := dlq.Parse(deadLetter())
	v := render.Value{JSON: []byte(`{"amount":-3,"tags":["a"]}`)}
	for src, want := range map[string]bool{
		`stage == "validate" && kind == "poison"`:                      true,
		`topic == "user-topic" && partition == 2 && offset == 1234`:    true,
		`timestamp > 1700000000000 && attempts == 1 && schema_id == 3`: true,
		`key startsWith "user-" && headers.tenant == "acme"`:           true,
		`value.amount < 0 && "a" in value.tags`:                        true,
		`replay_count > 0`:                                             false,
		`pipeline matches "^orders"`:                                   false,
	} {
		f, err := dlq.CompileFilter(src)
		if err != nil {
			t.Fatalf("CompileFilter(%q): %v", src, err)
		}
		if got, err := f.Match(l.Env(v)); err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", src, got, err, want)
		}
	}
	// A value that is not what the expression expects fails at run time.
	f, _ := dlq.CompileFilter(`value.amount < 0`)
	if _, err := f.Match(l.Env(render.Value{JSON: []byte(`"text"`)})); err == nil {
		t.Error("value.amount on a string matched without an error")
	}
}

func TestFilterUsesValue(t *testing.T) {
	for src, want := range map[string]bool{
		`stage == "validate"`:            false,
		`headers["value"] == "x"`:        false,
		`value != nil`:                   true,
		`stage == "map" || value.a > 1`:  true,
		`all(value?.items ?? [], # > 0)`: true,
	} {
		f, err := dlq.CompileFilter(src)
		if err != nil {
			t.Fatalf("CompileFilter(%q): %v", src, err)
		}
		if f.UsesValue() != want {
			t.Errorf("UsesValue(%s) = %v, want %v", src, f.UsesValue(), want)
		}
	}
}

func ExampleCompileFilter() {
	f, err := dlq.CompileFilter(`stage == "validate" && attempts < 3`)
	if err != nil {
		panic(err)
	}
	l := dlq.Parse(&kgo.Record{Headers: []kgo.RecordHeader{
		{Key: "sluice.error.stage", Value: []byte("validate")},
		{Key: "sluice.attempts", Value: []byte("1")},
	}})
	ok, err := f.Match(l.Env(render.Value{}))
	fmt.Println(ok, err)

	_, err = dlq.CompileFilter(`stag == "validate"`)
	fmt.Println(strings.Contains(err.Error(), "unknown name stag"))
	// Output:
	// true <nil>
	// true
}
