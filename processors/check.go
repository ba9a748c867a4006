package processors

import (
	"sort"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/processors/config"
)

// checkField reports a field that the record type lacks or whose expression
// has a type that cannot be stored in it.
func checkField(at *config.Node, t *Type, name string, x *Expr) {
	f, ok := t.Field(name)
	if !ok {
		names := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			names[i] = f.Name
		}
		at.Errorf("unknown field %q (fields of %s: %s)", name, schemaName(t), strings.Join(names, ", "))
		return
	}
	if x != nil && !assignable(x.Type, f.Go) {
		at.Errorf("field %q is %s but the expression %s gives %s", name, typeName(f.Go), shownExpr(x.Source), typeName(x.Type))
	}
}

// requireFields reports schema fields without a default that set lacks.
func requireFields(at *config.Node, t *Type, set map[string]bool) {
	rs, ok := deref(t.Schema).(*avro.RecordSchema)
	if !ok {
		return
	}
	var missing []string
	for _, f := range rs.Fields() {
		if !set[f.Name()] && !f.HasDefault() {
			missing = append(missing, f.Name())
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		at.Errorf("fields without a default are not set: %s", strings.Join(missing, ", "))
	}
}

func schemaName(t *Type) string {
	if n, ok := deref(t.Schema).(avro.NamedSchema); ok {
		return n.FullName()
	}
	if t.Name != "" {
		return t.Name
	}
	return "the record"
}
