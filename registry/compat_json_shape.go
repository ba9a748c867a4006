package registry

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

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
	case "properties", "required", "additionalProperties", "patternProperties", "minProperties", "maxProperties",
		"dependencies", "dependentRequired", "dependentSchemas", "propertyNames", "unevaluatedProperties":
		return "object"
	case "items", "prefixItems", "additionalItems", "unevaluatedItems", "minItems", "maxItems", "uniqueItems",
		"contains", "minContains", "maxContains":
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
