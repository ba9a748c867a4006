package registry

import (
	"fmt"
	"strings"

	"github.com/hamba/avro/v2"
)

// Compatibility levels.
const (
	levelNone               = "NONE"
	levelBackward           = "BACKWARD"
	levelBackwardTransitive = "BACKWARD_TRANSITIVE"
	levelForward            = "FORWARD"
	levelForwardTransitive  = "FORWARD_TRANSITIVE"
	levelFull               = "FULL"
	levelFullTransitive     = "FULL_TRANSITIVE"

	defaultLevel = levelBackward
)

// parseLevel validates a compatibility level, case-insensitively.
func parseLevel(s string) (string, bool) {
	l := strings.ToUpper(strings.TrimSpace(s))
	switch l {
	case levelNone, levelBackward, levelBackwardTransitive, levelForward,
		levelForwardTransitive, levelFull, levelFullTransitive:
		return l, true
	}
	return "", false
}

func isTransitive(level string) bool { return strings.HasSuffix(level, "_TRANSITIVE") }

func checksBackward(level string) bool {
	return strings.HasPrefix(level, levelBackward) || strings.HasPrefix(level, levelFull)
}

func checksForward(level string) bool {
	return strings.HasPrefix(level, levelForward) || strings.HasPrefix(level, levelFull)
}

// compatible reports whether data written with writer can be read with reader.
//
// A new avro.SchemaCompatibility is made for every call on purpose: the checker
// caches verdicts by the schemas' canonical-form fingerprints, and the canonical
// form drops defaults and aliases, so a reused checker answers a later question
// with the verdict of an earlier, different pair.
func compatible(reader, writer avro.Schema) error {
	return avro.NewSchemaCompatibility().Compatible(reader, writer)
}

// describe is hamba's error text for the innermost incompatible pair, prefixed
// with the path of the field to blame.
func describe(reader, writer avro.Schema, err error) string {
	if path, cause := blame(reader, writer); path != "" && cause != nil {
		return fmt.Sprintf("field %s: %v", path, cause)
	}
	return err.Error()
}

// readerErrors returns why data written with writer cannot be read with
// reader, two schemas of one type; none means compatible.
func readerErrors(reader, writer *parsedSchema) []string {
	switch reader.schemaType {
	case typeAvro:
		if err := compatible(reader.avro, writer.avro); err != nil {
			return []string{describe(reader.avro, writer.avro, err)}
		}
	case typeJSON:
		return jsonReaderErrors(reader.json, writer.json)
	case typeProtobuf:
		return protobufReaderErrors(reader.proto, writer.proto)
	}
	return nil
}

// previousVersion is a registered version the new schema is checked against.
type previousVersion struct {
	version    int
	schemaType string
	schema     *parsedSchema // nil when it could not be parsed
	parseErr   error
}

// checkCompatibility checks schema against previous (ascending versions) under level
// and returns one message per incompatibility; none means compatible. Non-transitive
// levels look only at the last previous version.
func checkCompatibility(schema *parsedSchema, level string, previous []previousVersion) []string {
	if level == levelNone || len(previous) == 0 {
		return nil
	}
	if !isTransitive(level) {
		previous = previous[len(previous)-1:]
	}
	var msgs []string
	for i := len(previous) - 1; i >= 0; i-- {
		p := previous[i]
		switch {
		case p.schemaType != schema.schemaType:
			msgs = append(msgs, fmt.Sprintf("version %d is a %s schema and the new schema is %s: different schema types are never compatible", p.version, p.schemaType, schema.schemaType))
			continue
		case p.parseErr != nil:
			msgs = append(msgs, fmt.Sprintf("version %d cannot be parsed: %s", p.version, clip(p.parseErr.Error())))
			continue
		}
		if checksBackward(level) {
			if errs := readerErrors(schema, p.schema); len(errs) > 0 {
				msgs = append(msgs, fmt.Sprintf("the new schema cannot read data written with version %d (new schema is the reader, version %d the writer): %s",
					p.version, p.version, clip(strings.Join(errs, "; "))))
			}
		}
		if checksForward(level) {
			if errs := readerErrors(p.schema, schema); len(errs) > 0 {
				msgs = append(msgs, fmt.Sprintf("version %d cannot read data written with the new schema (version %d is the reader, the new schema the writer): %s",
					p.version, p.version, clip(strings.Join(errs, "; "))))
			}
		}
	}
	if len(msgs) > 0 {
		msgs = append(msgs, fmt.Sprintf("compatibility level: %s", level))
	}
	return msgs
}

// checkedVersions returns the subject's live versions a new schema is checked
// against under level: none for NONE, all for a transitive level, else the latest.
func checkedVersions(st *state, subject, level string) []schemaValue {
	switch {
	case level == levelNone:
		return nil
	case isTransitive(level):
		return st.versions(subject, false)
	}
	if v, ok := st.latest(subject, false); ok {
		return []schemaValue{v}
	}
	return nil
}

// previousVersions returns stored versions, with the schema each id was parsed
// to when it was stored, for a compatibility check. A schema that failed to
// parse then (a reference the log held only later) is parsed again.
func previousVersions(st *state, versions []schemaValue) []previousVersion {
	out := make([]previousVersion, 0, len(versions))
	for _, v := range versions {
		p := previousVersion{version: v.Version, schemaType: canonicalType(v.SchemaType)}
		if info := st.ids[v.ID]; info != nil && info.parsed != nil {
			p.schema = info.parsed
		} else if _, aerr := checkType(p.schemaType); aerr != nil {
			p.parseErr = aerr
		} else {
			p.schema, p.parseErr = parseSchema(st, p.schemaType, v.Schema, v.References, true)
		}
		out = append(out, p)
	}
	return out
}
