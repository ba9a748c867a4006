package registry

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

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
// Draft-07 keywords are compared; keywords of later drafts (prefixItems,
// unevaluated*, contains limits) and annotations (title, description,
// default, $id) never make a schema incompatible.

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
		"COMBINED_TYPE_EXTENDED", "PRODUCT_TYPE_NARROWED", "SUM_TYPE_EXTENDED", "NOT_TYPE_NARROWED":
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

// jsonNode is a (sub)schema: a decoded JSON value, with the URL of its
// document and all documents, against which its $refs resolve.
type jsonNode struct {
	v    any
	base string
	docs map[string]any
}

func (n *jsonNode) with(v any) *jsonNode { return &jsonNode{v: v, base: n.base, docs: n.docs} }

// jsonShape is what a node is, as Confluent's parser (everit) sees it: one
// kind, or a synthetic allOf of the several kinds its keywords give.
type jsonShape struct {
	kind    string         // empty, false, object, array, string, number, boolean, null, enum, const, not, allOf, anyOf, oneOf, unresolved
	m       map[string]any // the keywords
	integer bool           // number: "type":"integer"
	subs    []*jsonNode    // allOf, anyOf, oneOf
}

func (s jsonShape) combined() bool {
	return s.kind == "allOf" || s.kind == "anyOf" || s.kind == "oneOf"
}

// class is the kind for deciding TYPE_CHANGED: the three combinations are one class, as in everit.
func (s jsonShape) class() string {
	if s.combined() {
		return "combined"
	}
	return s.kind
}

// keywordKind is the kind of schema a keyword makes when there is no "type" ("" for none).
func keywordKind(keyword string) string {
	switch keyword {
	case "properties", "required", "additionalProperties", "patternProperties", "minProperties", "maxProperties", "dependencies", "propertyNames":
		return "object"
	case "items", "additionalItems", "minItems", "maxItems", "uniqueItems", "contains":
		return "array"
	case "minLength", "maxLength", "pattern", "format":
		return "string"
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf":
		return "number"
	}
	return ""
}

// facetKeywords each make a facet of their own, in this order.
func facetKeywords() []string { return []string{"enum", "const", "not", "allOf", "anyOf", "oneOf"} }

// shape classifies a node whose $ref, if any, is resolved already.
func shape(n *jsonNode) jsonShape {
	switch v := n.v.(type) {
	case bool:
		if v {
			return jsonShape{kind: "empty"}
		}
		return jsonShape{kind: "false"}
	case map[string]any:
		if _, ok := v["$ref"].(string); ok {
			return jsonShape{kind: "unresolved", m: v}
		}
		var facets []*jsonNode
		types := jsonTypes(v)
		if len(types) == 0 {
			for kw := range v {
				if k := keywordKind(kw); k != "" && !slices.Contains(types, k) {
					types = append(types, k)
				}
			}
			slices.Sort(types)
		}
		if len(types) > 0 {
			facets = append(facets, n.with(typedOnly(v, types)))
		}
		for _, kw := range facetKeywords() {
			if x, ok := v[kw]; ok {
				facets = append(facets, n.with(map[string]any{kw: x}))
			}
		}
		switch {
		case len(facets) == 0:
			return jsonShape{kind: "empty", m: v}
		case len(facets) > 1:
			return jsonShape{kind: "allOf", subs: facets}
		}
		return singleFacet(facets[0])
	}
	return jsonShape{kind: "empty"}
}

// singleFacet shapes a node with one facet.
func singleFacet(n *jsonNode) jsonShape {
	m := n.v.(map[string]any)
	for _, kw := range facetKeywords() {
		x, ok := m[kw]
		if !ok {
			continue
		}
		s := jsonShape{kind: kw, m: m}
		if arr, isArr := x.([]any); isArr && (kw == "allOf" || kw == "anyOf" || kw == "oneOf") {
			for _, sub := range arr {
				s.subs = append(s.subs, n.with(sub))
			}
		}
		return s
	}
	types := jsonTypes(m)
	if len(types) > 1 { // "type": [a, b] is an anyOf of one schema per type
		s := jsonShape{kind: "anyOf"}
		for _, t := range types {
			s.subs = append(s.subs, n.with(typedOnly(m, []string{t})))
		}
		return s
	}
	t := types[0]
	if t == "integer" {
		return jsonShape{kind: "number", m: m, integer: true}
	}
	return jsonShape{kind: t, m: m}
}

func jsonTypes(m map[string]any) []string {
	switch t := m["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// typedOnly is m without its facet keywords, with "type" set to types.
func typedOnly(m map[string]any, types []string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if !slices.Contains(facetKeywords(), k) {
			out[k] = v
		}
	}
	if len(types) == 1 {
		out["type"] = types[0]
	} else {
		list := make([]any, len(types))
		for i, t := range types {
			list[i] = t
		}
		out["type"] = list
	}
	return out
}

// resolve follows n's $ref, if any, and returns the target and its absolute URL ("" when n has none).
func resolve(n *jsonNode) (*jsonNode, string) {
	for range maxReferenceDepth {
		m, ok := n.v.(map[string]any)
		if !ok {
			return n, ""
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return n, ""
		}
		target, at, ok := lookupRef(n, ref)
		if !ok {
			return n, ""
		}
		if tm, isMap := target.v.(map[string]any); !isMap || tm["$ref"] == nil {
			return target, at
		}
		n = target
	}
	return n, ""
}

func lookupRef(n *jsonNode, ref string) (*jsonNode, string, bool) {
	base, err := url.Parse(n.base)
	if err != nil {
		return nil, "", false
	}
	r, err := url.Parse(ref)
	if err != nil {
		return nil, "", false
	}
	u := base.ResolveReference(r)
	frag := u.Fragment
	u.Fragment = ""
	doc, ok := n.docs[u.String()]
	if !ok {
		return nil, "", false
	}
	v, ok := jsonPointer(doc, frag)
	if !ok {
		return nil, "", false
	}
	switch v.(type) {
	case map[string]any, bool:
		return &jsonNode{v: v, base: u.String(), docs: n.docs}, u.String() + "#" + frag, true
	}
	return nil, "", false
}

// jsonPointer evaluates a fragment (a JSON pointer, "" for the document) in doc.
func jsonPointer(doc any, frag string) (any, bool) {
	if frag == "" {
		return doc, true
	}
	if !strings.HasPrefix(frag, "/") {
		return nil, false
	}
	cur := doc
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
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
	case o.combined() && !u.combined() && len(o.subs) == 1:
		if diffs, ok := d.sub(path, o.subs[0], update); ok {
			d.diffs = append(d.diffs, diffs...)
			return
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

// compareCombined is Confluent's CombinedSchemaDiff: the criterion may only
// widen, and the subschemas must match one to one (a maximum matching of
// compatible pairs covering the smaller side).
func (d *jsonDiffer) compareCombined(path string, o, u jsonShape) {
	switch {
	case o.kind == u.kind:
	case u.kind == "anyOf",
		u.kind == "oneOf" && len(o.subs) == 1,
		u.kind == "allOf" && len(o.subs) == 1 && len(u.subs) == 1:
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
	case len(osubs) > len(usubs) && u.kind == "allOf":
		d.add(path, "PRODUCT_TYPE_NARROWED")
	case len(osubs) > len(usubs):
		d.add(path, "SUM_TYPE_NARROWED")
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

func jsonObject(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func requiredSet(m map[string]any) map[string]bool {
	set := map[string]bool{}
	if arr, ok := m["required"].([]any); ok {
		for _, x := range arr {
			if s, ok := x.(string); ok {
				set[s] = true
			}
		}
	}
	return set
}

// Content models of an object: open (anything else is allowed), closed
// (additionalProperties false), or partially open (patternProperties or an
// additionalProperties schema says what else is allowed).
func openContentModel(m map[string]any) bool {
	if len(jsonObject(m["patternProperties"])) > 0 {
		return false
	}
	ap, present := m["additionalProperties"]
	return !present || ap == true
}

// partialSchema is the schema a partially open content model gives an unlisted property.
func partialSchema(n *jsonNode, m map[string]any, property string) *jsonNode {
	for pattern, s := range jsonObject(m["patternProperties"]) {
		if re, err := regexp.Compile(pattern); err == nil && re.MatchString(property) {
			return n.with(s)
		}
	}
	if ap, ok := m["additionalProperties"].(map[string]any); ok {
		return n.with(ap)
	}
	return nil
}

func isEmptySchema(v any) bool {
	if v == true {
		return true
	}
	m, ok := v.(map[string]any)
	return ok && shape(&jsonNode{v: m}).kind == "empty"
}

func hasDefault(v any) bool {
	_, ok := jsonObject(v)["default"]
	return ok
}

func sortedKeys(maps ...map[string]any) []string {
	var keys []string
	for _, m := range maps {
		for k := range m {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// compareObject is Confluent's ObjectSchemaDiff.
func (d *jsonDiffer) compareObject(path string, on, un *jsonNode, o, u map[string]any) {
	oprops, uprops := jsonObject(o["properties"]), jsonObject(u["properties"])
	oreq, ureq := requiredSet(o), requiredSet(u)

	for _, p := range sortedKeys(oprops) {
		if _, ok := uprops[p]; !ok {
			continue
		}
		switch {
		case oreq[p] && !ureq[p]:
			d.add(path+"/required/"+p, "REQUIRED_ATTRIBUTE_REMOVED")
		case !oreq[p] && ureq[p] && hasDefault(uprops[p]):
			d.add(path+"/required/"+p, "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED")
		case !oreq[p] && ureq[p]:
			d.add(path+"/required/"+p, "REQUIRED_ATTRIBUTE_ADDED")
		}
	}

	for _, p := range sortedKeys(oprops, uprops) {
		pp := path + "/properties/" + p
		os, inO := oprops[p]
		us, inU := uprops[p]
		switch {
		case !inU: // removed: only the reader's content model matters
			if openContentModel(u) {
				d.add(pp, "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL")
			} else if partial := partialSchema(un, u, p); partial != nil {
				diffs, ok := d.sub(pp, on.with(os), partial)
				d.diffs = append(d.diffs, diffs...)
				if ok {
					d.add(pp, "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
				} else {
					d.add(pp, "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
				}
			} else if os == false {
				d.add(pp, "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL")
			} else {
				d.add(pp, "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL")
			}
		case !inO: // added: only the writer's content model matters
			if openContentModel(o) {
				if isEmptySchema(us) {
					d.add(pp, "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL")
				} else {
					d.add(pp, "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL")
				}
				continue
			}
			if partial := partialSchema(on, o, p); partial != nil {
				diffs, ok := d.sub(pp, partial, un.with(us))
				d.diffs = append(d.diffs, diffs...)
				if ok {
					d.add(pp, "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
				} else {
					d.add(pp, "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
				}
			}
			switch {
			case ureq[p] && hasDefault(us):
				d.add(pp, "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL")
			case ureq[p]:
				d.add(pp, "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL")
			default:
				d.add(pp, "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL")
			}
		default:
			d.compare(pp, on.with(os), un.with(us))
		}
	}

	d.compareDependencies(path+"/dependencies", on, un, jsonObject(o["dependencies"]), jsonObject(u["dependencies"]))

	ap := path + "/additionalProperties"
	oap, uap := o["additionalProperties"], u["additionalProperties"]
	opermits, upermits := oap != false, uap != false
	oschema, uschema := jsonObject(oap), jsonObject(uap)
	switch {
	case opermits != upermits && upermits:
		d.add(ap, "ADDITIONAL_PROPERTIES_ADDED")
	case opermits != upermits:
		d.add(ap, "ADDITIONAL_PROPERTIES_REMOVED")
	case oschema == nil && uschema != nil:
		d.add(ap, "ADDITIONAL_PROPERTIES_NARROWED")
	case oschema != nil && uschema == nil:
		d.add(ap, "ADDITIONAL_PROPERTIES_EXTENDED")
	case oschema != nil:
		d.compare(ap, on.with(oschema), un.with(uschema))
	}

	d.compareLimit(path, o, u, "maxProperties", "MAX_PROPERTIES")
	d.compareLimit(path, o, u, "minProperties", "MIN_PROPERTIES")
}

func (d *jsonDiffer) compareDependencies(path string, on, un *jsonNode, o, u map[string]any) {
	for _, p := range sortedKeys(o, u) {
		ov, inO := o[p]
		uv, inU := u[p]
		oarr, oIsArr := ov.([]any)
		uarr, uIsArr := uv.([]any)
		switch {
		case oIsArr || uIsArr:
			switch {
			case !inU || !uIsArr:
				d.add(path+"/"+p, "DEPENDENCY_ARRAY_REMOVED")
			case !inO || !oIsArr:
				d.add(path+"/"+p, "DEPENDENCY_ARRAY_ADDED")
			default:
				os, us := jsonValueSet(oarr), jsonValueSet(uarr)
				switch {
				case subset(os, us) && subset(us, os):
				case subset(os, us):
					d.add(path+"/"+p, "DEPENDENCY_ARRAY_EXTENDED")
				case subset(us, os):
					d.add(path+"/"+p, "DEPENDENCY_ARRAY_NARROWED")
				default:
					d.add(path+"/"+p, "DEPENDENCY_ARRAY_CHANGED")
				}
			}
		case !inU:
			d.add(path+"/"+p, "DEPENDENCY_SCHEMA_REMOVED")
		case !inO:
			d.add(path+"/"+p, "DEPENDENCY_SCHEMA_ADDED")
		default:
			d.compare(path+"/"+p, on.with(ov), un.with(uv))
		}
	}
}

// compareArray is Confluent's ArraySchemaDiff for draft-07 arrays.
func (d *jsonDiffer) compareArray(path string, on, un *jsonNode, o, u map[string]any) {
	// items as one schema for all items
	var oall, uall *jsonNode
	if _, isTuple := o["items"].([]any); !isTuple && o["items"] != nil {
		oall = on.with(o["items"])
	}
	if _, isTuple := u["items"].([]any); !isTuple && u["items"] != nil {
		uall = un.with(u["items"])
	}
	d.compare(path+"/items", oall, uall)

	// items as a tuple
	otuple, _ := o["items"].([]any)
	utuple, _ := u["items"].([]any)
	for i := 0; i < max(len(otuple), len(utuple)); i++ {
		ip := fmt.Sprintf("%s/items/%d", path, i)
		switch {
		case i < len(otuple) && i < len(utuple):
			d.compare(ip, on.with(otuple[i]), un.with(utuple[i]))
		case i < len(otuple): // removed
			if openItems(u) {
				d.add(ip, "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL")
			} else if s, ok := u["additionalItems"].(map[string]any); ok {
				diffs, compatible := d.sub(ip, on.with(otuple[i]), un.with(s))
				d.diffs = append(d.diffs, diffs...)
				if compatible {
					d.add(ip, "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
				} else {
					d.add(ip, "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
				}
			} else if otuple[i] == false {
				d.add(ip, "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL")
			} else {
				d.add(ip, "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL")
			}
		default: // added
			if openItems(o) {
				if isEmptySchema(utuple[i]) {
					d.add(ip, "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL")
				} else {
					d.add(ip, "ITEM_ADDED_TO_OPEN_CONTENT_MODEL")
				}
			} else if s, ok := o["additionalItems"].(map[string]any); ok {
				diffs, compatible := d.sub(ip, on.with(s), un.with(utuple[i]))
				d.diffs = append(d.diffs, diffs...)
				if compatible {
					d.add(ip, "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
				} else {
					d.add(ip, "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
				}
			} else {
				d.add(ip, "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL")
			}
		}
	}

	ap := path + "/additionalItems"
	oai, uai := o["additionalItems"], u["additionalItems"]
	oschema, uschema := jsonObject(oai), jsonObject(uai)
	switch {
	case (oai != false) != (uai != false) && oai != false:
		d.add(ap, "ADDITIONAL_ITEMS_REMOVED")
	case (oai != false) != (uai != false):
		d.add(ap, "ADDITIONAL_ITEMS_ADDED")
	case oschema == nil && uschema != nil:
		d.add(ap, "ADDITIONAL_ITEMS_NARROWED")
	case oschema != nil && uschema == nil:
		d.add(ap, "ADDITIONAL_ITEMS_EXTENDED")
	case oschema != nil:
		d.compare(ap, on.with(oschema), un.with(uschema))
	}

	d.compareLimit(path, o, u, "maxItems", "MAX_ITEMS")
	d.compareLimit(path, o, u, "minItems", "MIN_ITEMS")
	ou, uu := o["uniqueItems"] == true, u["uniqueItems"] == true
	switch {
	case ou && !uu:
		d.add(path+"/uniqueItems", "UNIQUE_ITEMS_REMOVED")
	case !ou && uu:
		d.add(path+"/uniqueItems", "UNIQUE_ITEMS_ADDED")
	}
}

// openItems: a tuple whose additionalItems is absent or true allows any further item.
func openItems(m map[string]any) bool {
	ai, present := m["additionalItems"]
	return !present || ai == true
}
