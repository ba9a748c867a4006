package registry

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
)

// Strings, numbers, enums and consts, after Confluent's StringSchemaDiff,
// NumberSchemaDiff, EnumSchemaDiff and ConstSchemaDiff.

// jsonNumber reads a numeric keyword; ok is false when it is absent or not a number.
func jsonNumber(m map[string]any, key string) (*big.Rat, bool) {
	var s string
	switch v := m[key].(type) {
	case json.Number:
		s = v.String()
	case float64:
		s = strconv.FormatFloat(v, 'g', -1, 64)
	default:
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// compareLimit compares a numeric keyword and names the difference
// <PREFIX>_ADDED, _REMOVED, _INCREASED or _DECREASED.
func (d *jsonDiffer) compareLimit(path string, o, u map[string]any, key, prefix string) {
	ov, ook := jsonNumber(o, key)
	uv, uok := jsonNumber(u, key)
	switch {
	case !ook && !uok:
	case !ook:
		d.add(path+"/"+key, prefix+"_ADDED")
	case !uok:
		d.add(path+"/"+key, prefix+"_REMOVED")
	case ov.Cmp(uv) < 0:
		d.add(path+"/"+key, prefix+"_INCREASED")
	case ov.Cmp(uv) > 0:
		d.add(path+"/"+key, prefix+"_DECREASED")
	}
}

func (d *jsonDiffer) compareString(path string, o, u map[string]any) {
	d.compareLimit(path, o, u, "maxLength", "MAX_LENGTH")
	d.compareLimit(path, o, u, "minLength", "MIN_LENGTH")
	op, ook := o["pattern"].(string)
	up, uok := u["pattern"].(string)
	switch {
	case !ook && uok:
		d.add(path+"/pattern", "PATTERN_ADDED")
	case ook && !uok:
		d.add(path+"/pattern", "PATTERN_REMOVED")
	case ook && op != up:
		d.add(path+"/pattern", "PATTERN_CHANGED")
	}
}

func (d *jsonDiffer) compareNumber(path string, o, u jsonShape) {
	d.compareLimit(path, o.m, u.m, "maximum", "MAXIMUM")
	d.compareLimit(path, o.m, u.m, "minimum", "MINIMUM")
	d.compareLimit(path, o.m, u.m, "exclusiveMaximum", "EXCLUSIVE_MAXIMUM")
	d.compareLimit(path, o.m, u.m, "exclusiveMinimum", "EXCLUSIVE_MINIMUM")
	om, ook := jsonNumber(o.m, "multipleOf")
	um, uok := jsonNumber(u.m, "multipleOf")
	switch {
	case !ook && !uok, ook && uok && om.Cmp(um) == 0:
	case !ook:
		d.add(path+"/multipleOf", "MULTIPLE_OF_ADDED")
	case !uok:
		d.add(path+"/multipleOf", "MULTIPLE_OF_REMOVED")
	case new(big.Rat).Quo(um, om).IsInt():
		d.add(path+"/multipleOf", "MULTIPLE_OF_EXPANDED")
	case new(big.Rat).Quo(om, um).IsInt():
		d.add(path+"/multipleOf", "MULTIPLE_OF_REDUCED")
	default:
		d.add(path+"/multipleOf", "MULTIPLE_OF_CHANGED")
	}
	switch {
	case o.integer && !u.integer:
		d.add(path, "TYPE_EXTENDED")
	case !o.integer && u.integer:
		d.add(path, "TYPE_NARROWED")
	}
}

func (d *jsonDiffer) compareEnum(path string, o, u any) {
	os, us := jsonValueSet(o), jsonValueSet(u)
	switch {
	case subset(os, us) && subset(us, os):
	case subset(os, us):
		d.add(path+"/enum", "ENUM_ARRAY_EXTENDED")
	case subset(us, os):
		d.add(path+"/enum", "ENUM_ARRAY_NARROWED")
	default:
		d.add(path+"/enum", "ENUM_ARRAY_CHANGED")
	}
}

func jsonValueSet(v any) map[string]bool {
	set := map[string]bool{}
	if arr, ok := v.([]any); ok {
		for _, x := range arr {
			set[canonicalJSON(x)] = true
		}
	}
	return set
}

func subset(a, b map[string]bool) bool {
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// canonicalJSON renders a decoded value with sorted keys, numbers as written.
func canonicalJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
