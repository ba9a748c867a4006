package registry

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/schemafmt"
)

// compatRow is one schema change, old to new: whether the new schema can
// read data written with the old one (backward) and the old schema data
// written with the new one (forward). FULL is both. cite names the rule of
// Confluent's schema-registry diff code (json/diff or protobuf/diff, type
// Difference.Type) that decides the row.
type compatRow struct {
	name, cite        string
	old, new          string
	oldRefs, newRefs  map[string]string
	backward, forward bool
}

// obj is a JSON Schema object with the given properties JSON and extra keywords.
func obj(props string, extra ...string) string {
	return `{"type":"object","properties":{` + props + `}` + strings.Join(extra, "") + `}`
}

// TestJSONSchemaCompatibilityRules checks each rule of Confluent's JsonSchemaDiff
// in both directions; in each, all differences of the change must be among
// Confluent's SchemaDiff.COMPATIBLE_CHANGES for the reader to read the writer.
func TestJSONSchemaCompatibilityRules(t *testing.T) {
	closed := `,"additionalProperties":false`
	partial := `,"additionalProperties":{"type":"string"}`
	rows := []compatRow{
		{name: "identical", cite: "no difference",
			old: obj(`"a":{"type":"string"}`), new: obj(`"a":{"type":"string"}`), backward: true, forward: true},
		{name: "annotations changed", cite: "TITLE_CHANGED, DESCRIPTION_CHANGED, DEFAULT_CHANGED are compatible",
			old: obj(`"a":{"type":"string","title":"A","default":"x"}`), new: obj(`"a":{"type":"string","description":"the a","default":"y"}`), backward: true, forward: true},

		// Open content model: an object without additionalProperties (or with true) allows any other property.
		{name: "property added to open model", cite: "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL incompatible; reversed, PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL compatible",
			old: obj(`"a":{"type":"string"}`), new: obj(`"a":{"type":"string"},"b":{"type":"string"}`), backward: false, forward: true},
		{name: "property removed from open model", cite: "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL compatible; reversed, PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL incompatible",
			old: obj(`"a":{"type":"string"},"b":{"type":"string"}`), new: obj(`"a":{"type":"string"}`), backward: true, forward: false},
		{name: "property with empty schema added to open model", cite: "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL compatible",
			old: obj(`"a":{"type":"string"}`), new: obj(`"a":{"type":"string"},"b":{}`), backward: true, forward: true},
		{name: "property removed from open model (additionalProperties true)", cite: "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL compatible",
			old: obj(`"a":{"type":"string"},"b":{"type":"string"}`, `,"additionalProperties":true`), new: obj(`"a":{"type":"string"}`, `,"additionalProperties":true`), backward: true, forward: false},

		// Closed content model: additionalProperties false.
		{name: "optional property added to closed model", cite: "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL compatible; reversed, PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL incompatible",
			old: obj(`"a":{"type":"string"}`, closed), new: obj(`"a":{"type":"string"},"b":{"type":"string"}`, closed), backward: true, forward: false},
		{name: "required property added to closed model", cite: "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL incompatible",
			old: obj(`"a":{"type":"string"}`, closed), new: obj(`"a":{"type":"string"},"b":{"type":"string"}`, closed, `,"required":["b"]`), backward: false, forward: false},
		{name: "required property with default added to closed model", cite: "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL compatible",
			old: obj(`"a":{"type":"string"}`, closed), new: obj(`"a":{"type":"string"},"b":{"type":"string","default":"x"}`, closed, `,"required":["b"]`), backward: true, forward: false},
		{name: "property removed from closed model", cite: "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL incompatible; reversed, OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL compatible",
			old: obj(`"a":{"type":"string"},"b":{"type":"string"}`, closed), new: obj(`"a":{"type":"string"}`, closed), backward: false, forward: true},
		{name: "property with false schema removed from closed model", cite: "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL compatible",
			old: obj(`"a":{"type":"string"},"b":false`, closed), new: obj(`"a":{"type":"string"}`, closed), backward: true, forward: true},
		{name: "closed model opened", cite: "ADDITIONAL_PROPERTIES_ADDED compatible; reversed, ADDITIONAL_PROPERTIES_REMOVED incompatible",
			old: obj(`"a":{"type":"string"}`, closed), new: obj(`"a":{"type":"string"}`), backward: true, forward: false},

		// Partially open content model: additionalProperties (or patternProperties) gives other properties a schema.
		{name: "property covered by partially open model added", cite: "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL compatible, PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL compatible",
			old: obj(`"a":{"type":"string"}`, partial), new: obj(`"a":{"type":"string"},"b":{"type":"string"}`, partial), backward: true, forward: true},
		{name: "property not covered by partially open model added", cite: "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL incompatible",
			old: obj(`"a":{"type":"string"}`, partial), new: obj(`"a":{"type":"string"},"b":{"type":"integer"}`, partial), backward: false, forward: false},
		{name: "property covered by patternProperties added", cite: "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL compatible",
			old: obj(`"a":{"type":"string"}`, `,"patternProperties":{"^x_":{"type":"integer"}}`), new: obj(`"a":{"type":"string"},"x_b":{"type":"integer"}`, `,"patternProperties":{"^x_":{"type":"integer"}}`), backward: true, forward: true},
		{name: "additionalProperties schema added", cite: "ADDITIONAL_PROPERTIES_NARROWED incompatible; reversed, ADDITIONAL_PROPERTIES_EXTENDED compatible",
			old: obj(`"a":{"type":"string"}`), new: obj(`"a":{"type":"string"}`, partial), backward: false, forward: true},

		// Types.
		{name: "integer widened to number", cite: "TYPE_EXTENDED compatible; reversed, TYPE_NARROWED incompatible",
			old: obj(`"a":{"type":"integer"}`), new: obj(`"a":{"type":"number"}`), backward: true, forward: false},
		{name: "string changed to integer", cite: "TYPE_CHANGED incompatible",
			old: obj(`"a":{"type":"string"}`), new: obj(`"a":{"type":"integer"}`), backward: false, forward: false},
		{name: "string widened to string or null", cite: "SUM_TYPE_EXTENDED compatible; reversed, TYPE_CHANGED incompatible",
			old: obj(`"a":{"type":"string"}`), new: obj(`"a":{"type":["string","null"]}`), backward: true, forward: false},
		{name: "anything to the empty schema", cite: "SchemaDiff.compare: an update that is the EmptySchema is compatible; the reverse is TYPE_CHANGED",
			old: obj(`"a":{"type":"string"}`), new: `{}`, backward: true, forward: false},
		{name: "false schema to anything", cite: "SchemaDiff.compare: an original that is the FalseSchema is compatible",
			old: obj(`"a":false`), new: obj(`"a":{"type":"string"}`), backward: true, forward: false},
		{name: "array items changed type", cite: "TYPE_CHANGED incompatible (ArraySchemaDiff items)",
			old: `{"type":"array","items":{"type":"string"}}`, new: `{"type":"array","items":{"type":"integer"}}`, backward: false, forward: false},
		{name: "oneOf extended", cite: "SUM_TYPE_EXTENDED compatible; reversed, SUM_TYPE_NARROWED incompatible",
			old: `{"oneOf":[{"type":"string"},{"type":"integer"}]}`, new: `{"oneOf":[{"type":"string"},{"type":"integer"},{"type":"boolean"}]}`, backward: true, forward: false},
		{name: "oneOf changed to anyOf", cite: "COMBINED_TYPE_EXTENDED compatible; reversed, COMBINED_TYPE_CHANGED incompatible",
			old: `{"oneOf":[{"type":"string"},{"type":"integer"}]}`, new: `{"anyOf":[{"type":"string"},{"type":"integer"}]}`, backward: true, forward: false},
		{name: "allOf narrowed", cite: "PRODUCT_TYPE_NARROWED compatible; reversed, PRODUCT_TYPE_EXTENDED incompatible",
			old: `{"allOf":[{"type":"string"},{"maxLength":5}]}`, new: `{"allOf":[{"type":"string"}]}`, backward: true, forward: false},
		{name: "not narrowed", cite: "NOT_TYPE_NARROWED compatible; reversed, NOT_TYPE_EXTENDED incompatible",
			old: `{"not":{"type":["string","integer"]}}`, new: `{"not":{"type":"string"}}`, backward: true, forward: false},

		// required.
		{name: "existing property made required", cite: "REQUIRED_ATTRIBUTE_ADDED incompatible; reversed, REQUIRED_ATTRIBUTE_REMOVED compatible",
			old: obj(`"a":{"type":"string"}`), new: obj(`"a":{"type":"string"}`, `,"required":["a"]`), backward: false, forward: true},
		{name: "existing property made required with a default", cite: "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED compatible",
			old: obj(`"a":{"type":"string","default":"x"}`), new: obj(`"a":{"type":"string","default":"x"}`, `,"required":["a"]`), backward: true, forward: true},

		// enum and const.
		{name: "enum extended", cite: "ENUM_ARRAY_EXTENDED compatible; reversed, ENUM_ARRAY_NARROWED incompatible",
			old: obj(`"a":{"enum":["x","y"]}`), new: obj(`"a":{"enum":["x","y","z"]}`), backward: true, forward: false},
		{name: "enum with type extended", cite: "ENUM_ARRAY_EXTENDED compatible inside the allOf everit makes of type and enum",
			old: obj(`"a":{"type":"string","enum":["x","y"]}`), new: obj(`"a":{"type":"string","enum":["x","y","z"]}`), backward: true, forward: false},
		{name: "enum dropped", cite: "PRODUCT_TYPE_NARROWED compatible (the allOf of type and enum narrowed to the type); reversed, TYPE_CHANGED incompatible",
			old: obj(`"a":{"type":"string","enum":["x","y"]}`), new: obj(`"a":{"type":"string"}`), backward: true, forward: false},
		{name: "enum changed", cite: "ENUM_ARRAY_CHANGED incompatible",
			old: obj(`"a":{"enum":["x","y"]}`), new: obj(`"a":{"enum":["x","z"]}`), backward: false, forward: false},
		{name: "const changed", cite: "ConstSchemaDiff: a different const is incompatible",
			old: `{"const":"x"}`, new: `{"const":"y"}`, backward: false, forward: false},

		// Limits.
		{name: "maxLength decreased", cite: "MAX_LENGTH_DECREASED incompatible; reversed, MAX_LENGTH_INCREASED compatible",
			old: `{"type":"string","maxLength":10}`, new: `{"type":"string","maxLength":5}`, backward: false, forward: true},
		{name: "pattern added", cite: "PATTERN_ADDED incompatible; reversed, PATTERN_REMOVED compatible",
			old: `{"type":"string"}`, new: `{"type":"string","pattern":"^a"}`, backward: false, forward: true},
		{name: "minimum added", cite: "MINIMUM_ADDED incompatible; reversed, MINIMUM_REMOVED compatible",
			old: `{"type":"number"}`, new: `{"type":"number","minimum":0}`, backward: false, forward: true},
		{name: "maximum increased", cite: "MAXIMUM_INCREASED compatible; reversed, MAXIMUM_DECREASED incompatible",
			old: `{"type":"number","maximum":10}`, new: `{"type":"number","maximum":20}`, backward: true, forward: false},
		{name: "multipleOf reduced", cite: "MULTIPLE_OF_REDUCED compatible; reversed, MULTIPLE_OF_EXPANDED incompatible",
			old: `{"type":"integer","multipleOf":10}`, new: `{"type":"integer","multipleOf":5}`, backward: true, forward: false},
		{name: "maxItems removed", cite: "MAX_ITEMS_REMOVED compatible; reversed, MAX_ITEMS_ADDED incompatible",
			old: `{"type":"array","maxItems":3}`, new: `{"type":"array"}`, backward: true, forward: false},
		{name: "uniqueItems added", cite: "UNIQUE_ITEMS_ADDED incompatible; reversed, UNIQUE_ITEMS_REMOVED compatible",
			old: `{"type":"array"}`, new: `{"type":"array","uniqueItems":true}`, backward: false, forward: true},
		{name: "tuple item added to closed tuple", cite: "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL compatible; reversed, ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL incompatible",
			old: `{"type":"array","items":[{"type":"string"}],"additionalItems":false}`, new: `{"type":"array","items":[{"type":"string"},{"type":"integer"}],"additionalItems":false}`, backward: true, forward: false},

		// Draft 2020-12 keywords.
		{name: "2020-12: optional property added, unevaluatedProperties false", cite: "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL compatible (unevaluatedProperties closes the model)",
			old: `{"$schema":"https://json-schema.org/draft/2020-12/schema","properties":{"a":{"type":"string"}},"unevaluatedProperties":false}`,
			new: `{"$schema":"https://json-schema.org/draft/2020-12/schema","properties":{"a":{"type":"string"},"b":{"type":"number"}},"unevaluatedProperties":false}`, backward: true, forward: false},
		{name: "2020-12: unevaluatedProperties schema added", cite: "UNEVALUATED_PROPERTIES_NARROWED incompatible; reversed, UNEVALUATED_PROPERTIES_EXTENDED compatible",
			old: `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object"}`,
			new: `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","unevaluatedProperties":{"type":"string"}}`, backward: false, forward: true},
		{name: "2020-12: dependentRequired moved", cite: "DEPENDENCY_ARRAY_ADDED incompatible (dependentRequired compared as dependencies)",
			old: `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","dependentRequired":{"a":["b"]}}`,
			new: `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","dependentRequired":{"b":["a"]}}`, backward: false, forward: false},
		{name: "2020-12: prefixItems item changed type", cite: "TYPE_CHANGED incompatible (prefixItems compared as the tuple)",
			old: `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array","prefixItems":[{"type":"string"}]}`,
			new: `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array","prefixItems":[{"type":"number"}]}`, backward: false, forward: false},
		{name: "2020-12: prefixItems item added, covered by items", cite: "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL compatible (items beside prefixItems is the schema of the items after them)",
			old: `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array","prefixItems":[{"type":"string"}],"items":{"type":"integer"}}`,
			new: `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array","prefixItems":[{"type":"string"},{"type":"integer"}],"items":{"type":"integer"}}`, backward: true, forward: true},
		{name: "2020-12: minContains increased", cite: "MIN_CONTAINS_INCREASED incompatible; reversed, MIN_CONTAINS_DECREASED compatible",
			old: `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array","contains":{"type":"number"},"minContains":1}`,
			new: `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array","contains":{"type":"number"},"minContains":2}`, backward: false, forward: true},

		// $ref, local and to references.
		{name: "local $ref target changed type", cite: "TYPE_CHANGED incompatible (ReferenceSchema compared by its referred schema)",
			old: `{"definitions":{"A":{"type":"string"}},"type":"object","properties":{"a":{"$ref":"#/definitions/A"}}}`,
			new: `{"definitions":{"A":{"type":"integer"}},"type":"object","properties":{"a":{"$ref":"#/definitions/A"}}}`, backward: false, forward: false},
		{name: "$ref replaced by its target inline", cite: "ReferenceSchema compared by its referred schema: no difference",
			old: `{"definitions":{"A":{"type":"string"}},"type":"object","properties":{"a":{"$ref":"#/definitions/A"}}}`,
			new: obj(`"a":{"type":"string"}`), backward: true, forward: true},
		{name: "recursive schema unchanged", cite: "Context.enterSchema: a schema pair is compared once",
			old: `{"definitions":{"N":{"type":"object","properties":{"next":{"$ref":"#/definitions/N"}}}},"$ref":"#/definitions/N"}`,
			new: `{"definitions":{"N":{"type":"object","properties":{"next":{"$ref":"#/definitions/N"}}}},"$ref":"#/definitions/N"}`, backward: true, forward: true},
		{name: "referenced schema changed", cite: "TYPE_CHANGED incompatible inside a schema reference",
			old: obj(`"addr":{"$ref":"address.json"}`), oldRefs: map[string]string{"address.json": obj(`"zip":{"type":"string"}`, closed)},
			new: obj(`"addr":{"$ref":"address.json"}`), newRefs: map[string]string{"address.json": obj(`"zip":{"type":"integer"}`, closed)}, backward: false, forward: false},
		{name: "referenced schema gained an optional property in a closed model", cite: "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL compatible inside a schema reference",
			old: obj(`"addr":{"$ref":"address.json"}`), oldRefs: map[string]string{"address.json": obj(`"zip":{"type":"string"}`, closed)},
			new: obj(`"addr":{"$ref":"address.json"}`), newRefs: map[string]string{"address.json": obj(`"zip":{"type":"string"},"city":{"type":"string"}`, closed)}, backward: true, forward: false},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			old, err := schemafmt.CompileJSONSchema(r.old, r.oldRefs)
			if err != nil {
				t.Fatalf("old schema: %v", err)
			}
			nw, err := schemafmt.CompileJSONSchema(r.new, r.newRefs)
			if err != nil {
				t.Fatalf("new schema: %v", err)
			}
			if errs := jsonReaderErrors(nw, old); (len(errs) == 0) != r.backward {
				t.Errorf("backward (new reads old) = %v, want %v (%s); differences: %v", len(errs) == 0, r.backward, r.cite, errs)
			}
			if errs := jsonReaderErrors(old, nw); (len(errs) == 0) != r.forward {
				t.Errorf("forward (old reads new) = %v, want %v (%s); differences: %v", len(errs) == 0, r.forward, r.cite, errs)
			}
		})
	}
}
