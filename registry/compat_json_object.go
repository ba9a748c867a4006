package registry

import (
	"fmt"
	"regexp"
	"slices"
)

// Objects and arrays, after Confluent's ObjectSchemaDiff and ArraySchemaDiff.

// jsonObject is v as a JSON object, or nil.
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
// (additionalProperties false), or partially open (patternProperties, an
// additionalProperties schema or, without additionalProperties, an
// unevaluatedProperties schema says what else is allowed).
func openContentModel(m map[string]any) bool {
	if len(jsonObject(m["patternProperties"])) > 0 {
		return false
	}
	if ap, present := m["additionalProperties"]; present && ap != true {
		return false
	}
	up, present := m["unevaluatedProperties"]
	return !present || isEmptySchema(up)
}

// partialSchema is the schema a partially open content model gives an unlisted property.
func partialSchema(n *jsonNode, m map[string]any, property string) *jsonNode {
	patterns := jsonObject(m["patternProperties"])
	for _, pattern := range sortedKeys(patterns) {
		if re, err := regexp.Compile(pattern); err == nil && re.MatchString(property) {
			return n.with(patterns[pattern])
		}
	}
	ap, present := m["additionalProperties"]
	if s, ok := ap.(map[string]any); ok {
		return n.with(s)
	}
	if present && ap != true {
		return nil
	}
	if up, ok := m["unevaluatedProperties"]; ok && up != false && !isEmptySchema(up) {
		return n.with(up)
	}
	return nil
}

// compareUnevaluated compares unevaluatedProperties or unevaluatedItems
// (prefix UNEVALUATED_PROPERTIES or UNEVALUATED_ITEMS), as Confluent does.
func (d *jsonDiffer) compareUnevaluated(path string, on, un *jsonNode, o, u map[string]any, key, prefix string) {
	ov, inO := o[key]
	uv, inU := u[key]
	p := path + "/" + key
	switch {
	case !inO && !inU:
	case !inO && uv == false:
		d.add(p, prefix+"_REMOVED")
	case !inO:
		d.add(p, prefix+"_NARROWED")
	case !inU && ov == false:
		d.add(p, prefix+"_ADDED")
	case !inU:
		d.add(p, prefix+"_EXTENDED")
	case ov == false && uv != false:
		d.add(p, prefix+"_ADDED")
	case ov != false && uv == false:
		d.add(p, prefix+"_REMOVED")
	case isEmptySchema(ov) && !isEmptySchema(uv):
		d.add(p, prefix+"_NARROWED")
	case !isEmptySchema(ov) && isEmptySchema(uv):
		d.add(p, prefix+"_EXTENDED")
	default:
		d.compare(p, on.with(ov), un.with(uv))
	}
}

// dependencies merges draft-07 dependencies with their 2019-09 successors
// dependentRequired (arrays) and dependentSchemas.
func dependencies(m map[string]any) map[string]any {
	out := map[string]any{}
	for _, key := range []string{"dependencies", "dependentRequired", "dependentSchemas"} {
		for k, v := range jsonObject(m[key]) {
			out[k] = v
		}
	}
	return out
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

	d.compareDependencies(path+"/dependencies", on, un, dependencies(o), dependencies(u))

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

	d.compareUnevaluated(path, on, un, o, u, "unevaluatedProperties", "UNEVALUATED_PROPERTIES")

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

// arrayKeywords reads an array schema in either draft: the schema of all
// items (items as one schema), or the tuple (items as an array up to draft
// 2019-09, prefixItems from 2020-12) and the schema of the items after it
// (additionalItems, or items beside prefixItems).
func arrayKeywords(m map[string]any) (all any, tuple []any, after any, afterPresent bool) {
	if prefix, ok := m["prefixItems"].([]any); ok {
		after, afterPresent = m["items"]
		return nil, prefix, after, afterPresent
	}
	after, afterPresent = m["additionalItems"]
	if items, ok := m["items"].([]any); ok {
		return nil, items, after, afterPresent
	}
	return m["items"], nil, after, afterPresent
}

// compareArray is Confluent's ArraySchemaDiff.
func (d *jsonDiffer) compareArray(path string, on, un *jsonNode, o, u map[string]any) {
	oall, otuple, oafter, oafterPresent := arrayKeywords(o)
	uall, utuple, uafter, uafterPresent := arrayKeywords(u)
	var oallNode, uallNode *jsonNode
	if oall != nil {
		oallNode = on.with(oall)
	}
	if uall != nil {
		uallNode = un.with(uall)
	}
	d.compare(path+"/items", oallNode, uallNode)

	for i := 0; i < max(len(otuple), len(utuple)); i++ {
		ip := fmt.Sprintf("%s/items/%d", path, i)
		switch {
		case i < len(otuple) && i < len(utuple):
			d.compare(ip, on.with(otuple[i]), un.with(utuple[i]))
		case i < len(otuple): // removed: only the reader's content model matters
			if openItems(u, uafter, uafterPresent) {
				d.add(ip, "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL")
			} else if s := partialItems(u, uafter, uafterPresent); s != nil {
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
		default: // added: only the writer's content model matters
			if openItems(o, oafter, oafterPresent) {
				if isEmptySchema(utuple[i]) {
					d.add(ip, "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL")
				} else {
					d.add(ip, "ITEM_ADDED_TO_OPEN_CONTENT_MODEL")
				}
			} else if s := partialItems(o, oafter, oafterPresent); s != nil {
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
	oschema, uschema := jsonObject(oafter), jsonObject(uafter)
	switch {
	case (oafter != false) != (uafter != false) && oafter != false:
		d.add(ap, "ADDITIONAL_ITEMS_REMOVED")
	case (oafter != false) != (uafter != false):
		d.add(ap, "ADDITIONAL_ITEMS_ADDED")
	case oschema == nil && uschema != nil:
		d.add(ap, "ADDITIONAL_ITEMS_NARROWED")
	case oschema != nil && uschema == nil:
		d.add(ap, "ADDITIONAL_ITEMS_EXTENDED")
	case oschema != nil:
		d.compare(ap, on.with(oschema), un.with(uschema))
	}
	d.compareUnevaluated(path, on, un, o, u, "unevaluatedItems", "UNEVALUATED_ITEMS")

	d.compareLimit(path, o, u, "maxItems", "MAX_ITEMS")
	d.compareLimit(path, o, u, "minItems", "MIN_ITEMS")
	ou, uu := o["uniqueItems"] == true, u["uniqueItems"] == true
	switch {
	case ou && !uu:
		d.add(path+"/uniqueItems", "UNIQUE_ITEMS_REMOVED")
	case !ou && uu:
		d.add(path+"/uniqueItems", "UNIQUE_ITEMS_ADDED")
	}
	d.compareLimit(path, o, u, "maxContains", "MAX_CONTAINS")
	d.compareLimit(path, o, u, "minContains", "MIN_CONTAINS")
}

// openItems: a tuple allows any further item when neither the schema of the
// items after it nor unevaluatedItems restricts them.
func openItems(m map[string]any, after any, afterPresent bool) bool {
	if afterPresent && after != true {
		return false
	}
	ui, present := m["unevaluatedItems"]
	return !present || isEmptySchema(ui)
}

// partialItems is the schema a partially open tuple gives the items after it.
func partialItems(m map[string]any, after any, afterPresent bool) any {
	if s, ok := after.(map[string]any); ok {
		return s
	}
	if afterPresent && after != true {
		return nil
	}
	if ui, ok := m["unevaluatedItems"]; ok && ui != false && !isEmptySchema(ui) {
		return ui
	}
	return nil
}
