package codecs_test

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/codecs"
)

func TestCoerceStrictRefusesUnknownFields(t *testing.T) {
	s := codecs.NewSchemas()
	sc := mustParse(t, s, `{"type":"record","name":"O","namespace":"n","fields":[
		{"name":"id","type":"string"},
		{"name":"inner","type":["null",{"type":"record","name":"I","fields":[{"name":"zip","type":"int"}]}],"default":null},
		{"name":"list","type":{"type":"array","items":"n.I"},"default":[]},
		{"name":"byName","type":{"type":"map","values":"n.I"},"default":{}}]}`)
	for _, c := range []struct {
		name string
		in   map[string]any
		want string
	}{
		{"top level", map[string]any{"id": "a", "countyr": "DE"},
			"field countyr: not in record n.O (fields: id, inner, list, byName)"},
		{"first in sorted order", map[string]any{"id": "a", "zz": 1, "aa": 2}, "field aa: not in record n.O"},
		{"in a union branch", map[string]any{"id": "a", "inner": map[string]any{"zip": 1, "zap": 2}},
			"field inner.zap: not in record n.I (fields: zip)"},
		{"in an array item", map[string]any{"id": "a", "list": []any{map[string]any{"zip": 1}, map[string]any{"zip": 1, "x": 1}}},
			"field list[1].x: not in record n.I"},
		{"in a map value", map[string]any{"id": "a", "byName": map[string]any{"k": map[string]any{"y": 1, "zip": 2}}},
			"field byName[k].y: not in record n.I"},
	} {
		if _, err := codecs.CoerceStrict(sc, c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want it to contain %q", c.name, err, c.want)
		}
		// Coerce itself keeps dropping them: pipelines rely on that.
		if _, err := codecs.Coerce(sc, c.in); err != nil {
			t.Errorf("%s: Coerce: %v", c.name, err)
		}
	}

	got, err := codecs.CoerceStrict(sc, map[string]any{"id": "a", "inner": map[string]any{"zip": 7}})
	if err != nil {
		t.Fatalf("a value with known fields only: %v", err)
	}
	if inner := got.(map[string]any)["inner"].(map[string]any); inner["zip"] != int32(7) {
		t.Errorf("coerced to %v", got)
	}
	// A type mismatch is Coerce's to explain.
	if _, err := codecs.CoerceStrict(sc, map[string]any{"id": "a", "inner": "x"}); err == nil ||
		strings.Contains(err.Error(), "not in record") {
		t.Errorf("type mismatch: %v", err)
	}
}
