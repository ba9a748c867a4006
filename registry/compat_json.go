package registry

import (
	"fmt"

	"github.com/sluicehq/sluice/internal/schemafmt"
)

// JSON Schema compatibility follows Confluent's JsonSchemaDiff
// (io.confluent.kafka.schemaregistry.json.diff): the writer's schema (the
// "original") and the reader's (the "update") are walked side by side, every
// difference gets one of Confluent's difference types, and the reader can read
// what the writer wrote when every difference is one of the compatible types
// (jsonCompatible: Confluent's SchemaDiff.COMPATIBLE_CHANGES). The
// messages name the difference type and the JSON pointer where it is.
//
// Keywords of drafts 04 to 2020-12 are compared (dependentRequired and
// dependentSchemas as dependencies, prefixItems as a tuple, unevaluated*
// as content models); annotations (title, description, default, $id) never
// make a schema incompatible.

// jsonCompatible reports whether a reader accepts a difference type: the
// types of Confluent's json SchemaDiff.COMPATIBLE_CHANGES.
func jsonCompatible(kind string) bool {
	switch kind {
	case "SCHEMA_REMOVED", "TYPE_EXTENDED", "MAX_LENGTH_INCREASED", "MAX_LENGTH_REMOVED",
		"MIN_LENGTH_DECREASED", "MIN_LENGTH_REMOVED", "PATTERN_REMOVED", "MAXIMUM_INCREASED",
		"MAXIMUM_REMOVED", "MINIMUM_DECREASED", "MINIMUM_REMOVED", "EXCLUSIVE_MAXIMUM_INCREASED",
		"EXCLUSIVE_MAXIMUM_REMOVED", "EXCLUSIVE_MINIMUM_DECREASED", "EXCLUSIVE_MINIMUM_REMOVED",
		"MULTIPLE_OF_REDUCED", "MULTIPLE_OF_REMOVED", "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
		"REQUIRED_ATTRIBUTE_REMOVED", "DEPENDENCY_ARRAY_NARROWED", "DEPENDENCY_ARRAY_REMOVED",
		"DEPENDENCY_SCHEMA_REMOVED", "MAX_PROPERTIES_INCREASED", "MAX_PROPERTIES_REMOVED",
		"MIN_PROPERTIES_DECREASED", "MIN_PROPERTIES_REMOVED", "ADDITIONAL_PROPERTIES_ADDED",
		"ADDITIONAL_PROPERTIES_EXTENDED", "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
		"REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
		"OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
		"PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
		"PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
		"PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
		"PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", "MAX_ITEMS_INCREASED",
		"MAX_ITEMS_REMOVED", "MIN_ITEMS_DECREASED", "MIN_ITEMS_REMOVED", "UNIQUE_ITEMS_REMOVED",
		"ADDITIONAL_ITEMS_ADDED", "ADDITIONAL_ITEMS_EXTENDED",
		"ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL", "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL",
		"ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL", "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL",
		"ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
		"ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", "ENUM_ARRAY_EXTENDED",
		"COMBINED_TYPE_EXTENDED", "PRODUCT_TYPE_NARROWED", "SUM_TYPE_EXTENDED", "NOT_TYPE_NARROWED",
		"UNEVALUATED_PROPERTIES_ADDED", "UNEVALUATED_PROPERTIES_EXTENDED", "UNEVALUATED_ITEMS_ADDED",
		"UNEVALUATED_ITEMS_EXTENDED", "MAX_CONTAINS_INCREASED", "MAX_CONTAINS_REMOVED",
		"MIN_CONTAINS_DECREASED", "MIN_CONTAINS_REMOVED":
		return true
	}
	return false
}

// jsonReaderErrors returns why data written with writer cannot be read with reader.
func jsonReaderErrors(reader, writer *schemafmt.JSONSchema) []string {
	d := &jsonDiffer{seen: map[[2]string]bool{}}
	d.compare("#", &jsonNode{v: writer.Doc, base: writer.URL, docs: writer.Docs}, &jsonNode{v: reader.Doc, base: reader.URL, docs: reader.Docs})
	var msgs []string
	for _, diff := range d.diffs {
		if !jsonCompatible(diff.kind) {
			msgs = append(msgs, fmt.Sprintf("%s: %s", diff.path, diff.kind))
		}
	}
	return msgs
}

type jsonDiff struct {
	path, kind string
}

// jsonDiffer collects the differences between two schemas.
type jsonDiffer struct {
	seen  map[[2]string]bool // pairs of $ref targets compared already (recursive schemas)
	diffs []jsonDiff
}

func (d *jsonDiffer) add(path, kind string) { d.diffs = append(d.diffs, jsonDiff{path, kind}) }

// sub compares in a subcontext and reports whether it found only compatible differences.
func (d *jsonDiffer) sub(path string, original, update *jsonNode) ([]jsonDiff, bool) {
	s := &jsonDiffer{seen: d.seen}
	s.compare(path, original, update)
	for _, diff := range s.diffs {
		if !jsonCompatible(diff.kind) {
			return s.diffs, false
		}
	}
	return s.diffs, true
}

// compare is Confluent's SchemaDiff.compare; nil is a schema absent.
func (d *jsonDiffer) compare(path string, original, update *jsonNode) {
	switch {
	case original == nil && update == nil:
		return
	case original == nil:
		d.add(path, "SCHEMA_ADDED")
		return
	case update == nil:
		d.add(path, "SCHEMA_REMOVED")
		return
	}
	original, oref := resolve(original)
	update, uref := resolve(update)
	if oref != "" || uref != "" {
		pair := [2]string{oref, uref}
		if d.seen[pair] {
			return
		}
		d.seen[pair] = true
		defer delete(d.seen, pair)
	}
	o, u := shape(original), shape(update)

	switch {
	case !o.combined() && u.combined():
		if len(u.subs) == 1 {
			if diffs, ok := d.sub(path, original, u.subs[0]); ok {
				d.diffs = append(d.diffs, diffs...)
				return
			}
		} else if u.kind == "anyOf" || u.kind == "oneOf" {
			for _, s := range u.subs {
				if diffs, ok := d.sub(path, original, s); ok {
					d.diffs = append(d.diffs, diffs...)
					d.add(path, "SUM_TYPE_EXTENDED")
					return
				}
			}
		}
	case o.combined() && !u.combined():
		if len(o.subs) == 1 {
			if diffs, ok := d.sub(path, o.subs[0], update); ok {
				d.diffs = append(d.diffs, diffs...)
				return
			}
		} else if o.kind == "allOf" { // what satisfies all of them satisfies one
			for _, s := range o.subs {
				if diffs, ok := d.sub(path, s, update); ok {
					d.diffs = append(d.diffs, diffs...)
					d.add(path, "PRODUCT_TYPE_NARROWED")
					return
				}
			}
		}
	}

	if o.class() != u.class() {
		if o.kind != "false" && u.kind != "empty" { // anything may become the empty schema; false may become anything
			d.add(path, "TYPE_CHANGED")
		}
		return
	}
	switch o.kind {
	case "string":
		d.compareString(path, o.m, u.m)
	case "number":
		d.compareNumber(path, o, u)
	case "enum":
		d.compareEnum(path, o.m["enum"], u.m["enum"])
	case "const":
		if canonicalJSON(o.m["const"]) != canonicalJSON(u.m["const"]) {
			d.add(path+"/const", "CONST_CHANGED")
		}
	case "not":
		// not(A) accepts all that not(B) accepts when B accepts all that A does.
		if _, ok := d.sub(path+"/not", update.with(u.m["not"]), original.with(o.m["not"])); ok {
			d.add(path, "NOT_TYPE_NARROWED")
		} else {
			d.add(path, "NOT_TYPE_EXTENDED")
		}
	case "allOf", "anyOf", "oneOf":
		d.compareCombined(path, o, u)
	case "object":
		d.compareObject(path, original, update, o.m, u.m)
	case "array":
		d.compareArray(path, original, update, o.m, u.m)
	case "unresolved":
		if o.m["$ref"] != u.m["$ref"] {
			d.add(path, "TYPE_CHANGED")
		}
	}
}

// compareCombined is Confluent's CombinedSchemaDiff: the criterion may only
// widen, and the subschemas must match one to one (a maximum matching of
// compatible pairs covering the smaller side).
func (d *jsonDiffer) compareCombined(path string, o, u jsonShape) {
	switch {
	case o.kind == u.kind:
	case u.kind == "anyOf",
		len(o.subs) == 1 && len(u.subs) == 1,
		len(o.subs) == 1 && u.kind == "oneOf",
		len(u.subs) == 1 && o.kind == "allOf":
		d.add(path, "COMBINED_TYPE_EXTENDED")
	default:
		d.add(path, "COMBINED_TYPE_CHANGED")
		return
	}
	osubs, usubs := dedupe(o.subs), dedupe(u.subs)
	switch {
	case len(osubs) < len(usubs) && u.kind == "allOf":
		d.add(path, "PRODUCT_TYPE_EXTENDED")
	case len(osubs) < len(usubs):
		d.add(path, "SUM_TYPE_EXTENDED")
	case len(osubs) > len(usubs) && o.kind != "allOf":
		d.add(path, "SUM_TYPE_NARROWED")
	case len(osubs) > len(usubs):
		d.add(path, "PRODUCT_TYPE_NARROWED")
	}
	edges := make([][][]jsonDiff, len(osubs)) // edges[i][j] != nil: compatible, with its differences
	for i, os := range osubs {
		edges[i] = make([][]jsonDiff, len(usubs))
		for j, us := range usubs {
			if diffs, ok := d.sub(fmt.Sprintf("%s/%s/%d", path, o.kind, i), os, us); ok {
				edges[i][j] = append([]jsonDiff{}, diffs...)
			}
		}
	}
	match := maxMatching(len(osubs), len(usubs), func(i, j int) bool { return edges[i][j] != nil })
	n := 0
	for i, j := range match {
		if j >= 0 {
			d.diffs = append(d.diffs, edges[i][j]...)
			n++
		}
	}
	if n < min(len(osubs), len(usubs)) {
		d.add(path, "COMBINED_TYPE_SUBSCHEMAS_CHANGED")
	}
}

// dedupe drops subschemas equal to an earlier one.
func dedupe(nodes []*jsonNode) []*jsonNode {
	seen := map[string]bool{}
	var out []*jsonNode
	for _, n := range nodes {
		k := canonicalJSON(n.v)
		if !seen[k] {
			seen[k] = true
			out = append(out, n)
		}
	}
	return out
}

// maxMatching returns, for each left vertex, its right partner in a maximum
// bipartite matching (-1 for none), by augmenting paths.
func maxMatching(left, right int, edge func(i, j int) bool) []int {
	matchR := make([]int, right)
	for j := range matchR {
		matchR[j] = -1
	}
	var try func(i int, seen []bool) bool
	try = func(i int, seen []bool) bool {
		for j := 0; j < right; j++ {
			if edge(i, j) && !seen[j] {
				seen[j] = true
				if matchR[j] < 0 || try(matchR[j], seen) {
					matchR[j] = i
					return true
				}
			}
		}
		return false
	}
	for i := 0; i < left; i++ {
		try(i, make([]bool, right))
	}
	matchL := make([]int, left)
	for i := range matchL {
		matchL[i] = -1
	}
	for j, i := range matchR {
		if i >= 0 {
			matchL[i] = j
		}
	}
	return matchL
}
