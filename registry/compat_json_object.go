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
