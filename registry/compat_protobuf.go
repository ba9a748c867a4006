package registry

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Protobuf compatibility follows Confluent's protobuf SchemaDiff
// (io.confluent.kafka.schemaregistry.protobuf.diff): the writer's file (the
// "original") and the reader's (the "update") are compared message by
// message (by name) and field by field (by number), every difference gets one
// of Confluent's difference types, and the reader can read what the writer
// wrote when every difference is compatible (protoCompatible: Confluent's
// SchemaDiff.COMPATIBLE_CHANGES). Enums never make a schema incompatible.

// protoCompatible reports whether a reader accepts a difference type: the
// types of Confluent's protobuf SchemaDiff.COMPATIBLE_CHANGES.
func protoCompatible(kind string) bool {
	switch kind {
	case "MESSAGE_ADDED", "MESSAGE_MOVED",
		"ENUM_ADDED", "ENUM_REMOVED", "ENUM_CONST_ADDED", "ENUM_CONST_CHANGED", "ENUM_CONST_REMOVED",
		"FIELD_ADDED", "FIELD_REMOVED", "FIELD_NAME_CHANGED", "FIELD_STRING_OR_BYTES_LABEL_CHANGED",
		"ONEOF_ADDED", "ONEOF_REMOVED", "ONEOF_FIELD_ADDED", "ONEOF_FIELD_MOVED_TO_TOP_LEVEL":
		return true
	}
	return false
}

// protobufReaderErrors returns why data written with writer cannot be read with reader.
func protobufReaderErrors(reader, writer protoreflect.FileDescriptor) []string {
	d := &protoDiffer{seen: map[[2]protoreflect.FullName]bool{}}
	if writer.Package() != reader.Package() {
		d.add("#/", "PACKAGE_CHANGED")
	}
	d.compareMessages("#/", writer.Messages(), reader.Messages())
	var msgs []string
	for _, diff := range d.diffs {
		msg := fmt.Sprintf("%s: %s", diff.path, diff.kind)
		if !protoCompatible(diff.kind) && !slices.Contains(msgs, msg) {
			msgs = append(msgs, msg)
		}
	}
	return msgs
}

type protoDiff struct{ path, kind string }

type protoDiffer struct {
	seen  map[[2]protoreflect.FullName]bool // message pairs compared already (recursive types)
	diffs []protoDiff
}

func (d *protoDiffer) add(path, kind string) { d.diffs = append(d.diffs, protoDiff{path, kind}) }

// compareMessages compares the messages declared at one level (a file's or a
// message's nested ones) by name; map entry types are not messages of their own.
func (d *protoDiffer) compareMessages(path string, original, update protoreflect.MessageDescriptors) {
	for i := 0; i < original.Len(); i++ {
		om := original.Get(i)
		if om.IsMapEntry() {
			continue
		}
		um := update.ByName(om.Name())
		p := path + string(om.Name())
		switch {
		case um == nil:
			d.add(p, "MESSAGE_REMOVED")
		default:
			d.compareMessage(p, om, um)
			if um.Index() != om.Index() {
				d.add(p, "MESSAGE_MOVED") // message indexes in payloads are relative to their own schema id
			}
		}
	}
	for i := 0; i < update.Len(); i++ {
		if um := update.Get(i); !um.IsMapEntry() && original.ByName(um.Name()) == nil {
			d.add(path+string(um.Name()), "MESSAGE_ADDED")
		}
	}
}

// realOneof is the oneof a field is declared in (not the synthetic one of a proto3 optional).
func realOneof(f protoreflect.FieldDescriptor) protoreflect.OneofDescriptor {
	if o := f.ContainingOneof(); o != nil && !o.IsSynthetic() {
		return o
	}
	return nil
}

// compareMessage is Confluent's MessageSchemaDiff: fields are compared by
// number wherever they are declared, so that a oneof renamed, or a field moved
// into or out of one, hides no change of a field.
func (d *protoDiffer) compareMessage(path string, original, update protoreflect.MessageDescriptor) {
	pair := [2]protoreflect.FullName{original.FullName(), update.FullName()}
	if d.seen[pair] {
		return
	}
	d.seen[pair] = true

	originalByTag, originalOneof := fieldsByNumber(original)
	updateByTag, updateOneof := fieldsByNumber(update)

	// A oneof removed with none of its fields left anywhere is deleted whole,
	// which readers accept; its fields are then no ONEOF_FIELD_REMOVED.
	deletedWhole := map[protoreflect.Name]bool{}
	for _, o := range realOneofs(original) {
		if uo := update.Oneofs().ByName(o.Name()); uo != nil && !uo.IsSynthetic() {
			continue
		}
		survives := false
		for j := 0; j < o.Fields().Len(); j++ {
			if _, ok := updateByTag[o.Fields().Get(j).Number()]; ok {
				survives = true
			}
		}
		if !survives {
			deletedWhole[o.Name()] = true
		}
	}

	// A oneof of the reader may only gather fields the writer had in one oneof
	// (or a single field of its own): fields that could be set together before
	// must not become mutually exclusive.
	for _, o := range realOneofs(update) {
		groups := map[string]bool{}
		movedIn := 0
		for j := 0; j < o.Fields().Len(); j++ {
			n := o.Fields().Get(j).Number()
			if name, ok := originalOneof[n]; ok {
				groups["oneof:"+string(name)] = true
			} else if _, ok := originalByTag[n]; ok {
				groups[fmt.Sprintf("field:%d", n)] = true
				movedIn++
			}
		}
		if len(groups) > 1 {
			if movedIn > 1 {
				d.add(path+"/"+string(o.Name()), "MULTIPLE_FIELDS_MOVED_TO_ONEOF")
			} else {
				d.add(path+"/"+string(o.Name()), "FIELD_MOVED_TO_EXISTING_ONEOF")
			}
		}
	}

	for _, o := range realOneofs(original) {
		if uo := update.Oneofs().ByName(o.Name()); uo == nil || uo.IsSynthetic() {
			d.add(path+"/"+string(o.Name()), "ONEOF_REMOVED")
		}
	}
	for _, o := range realOneofs(update) {
		if oo := original.Oneofs().ByName(o.Name()); oo == nil || oo.IsSynthetic() {
			d.add(path+"/"+string(o.Name()), "ONEOF_ADDED")
		}
	}

	for _, n := range sortedNumbers(originalByTag, updateByTag) {
		of, uf := originalByTag[n], updateByTag[n]
		on, inO := originalOneof[n]
		un, inU := updateOneof[n]
		switch {
		case uf == nil && inO:
			if !deletedWhole[on] {
				d.add(fmt.Sprintf("%s/%s/%d", path, on, n), "ONEOF_FIELD_REMOVED")
			}
		case uf == nil && of.Cardinality() == protoreflect.Required:
			d.add(fmt.Sprintf("%s/%d", path, n), "REQUIRED_FIELD_REMOVED")
		case uf == nil:
			d.add(fmt.Sprintf("%s/%d", path, n), "FIELD_REMOVED")
		case of == nil && inU:
			d.add(fmt.Sprintf("%s/%s/%d", path, un, n), "ONEOF_FIELD_ADDED")
		case of == nil && uf.Cardinality() == protoreflect.Required:
			d.add(fmt.Sprintf("%s/%d", path, n), "REQUIRED_FIELD_ADDED")
		case of == nil:
			d.add(fmt.Sprintf("%s/%d", path, n), "FIELD_ADDED")
		default:
			p := fmt.Sprintf("%s/%d", path, n)
			if inO && !inU {
				d.add(p, "ONEOF_FIELD_MOVED_TO_TOP_LEVEL")
			}
			if inU {
				p = fmt.Sprintf("%s/%s/%d", path, un, n)
			}
			d.compareField(p, of, uf)
		}
	}

	d.compareMessages(path+"/", original.Messages(), update.Messages())
}

// fieldsByNumber indexes a message's fields, and the oneof of each declared in one.
func fieldsByNumber(m protoreflect.MessageDescriptor) (map[protoreflect.FieldNumber]protoreflect.FieldDescriptor, map[protoreflect.FieldNumber]protoreflect.Name) {
	byTag := map[protoreflect.FieldNumber]protoreflect.FieldDescriptor{}
	oneofOf := map[protoreflect.FieldNumber]protoreflect.Name{}
	for i := 0; i < m.Fields().Len(); i++ {
		f := m.Fields().Get(i)
		byTag[f.Number()] = f
		if o := realOneof(f); o != nil {
			oneofOf[f.Number()] = o.Name()
		}
	}
	return byTag, oneofOf
}

// realOneofs are a message's declared oneofs (not the synthetic ones of proto3 optionals).
func realOneofs(m protoreflect.MessageDescriptor) []protoreflect.OneofDescriptor {
	var out []protoreflect.OneofDescriptor
	for i := 0; i < m.Oneofs().Len(); i++ {
		if o := m.Oneofs().Get(i); !o.IsSynthetic() {
			out = append(out, o)
		}
	}
	return out
}

func sortedNumbers(maps ...map[protoreflect.FieldNumber]protoreflect.FieldDescriptor) []protoreflect.FieldNumber {
	var out []protoreflect.FieldNumber
	for _, m := range maps {
		for n := range m {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}

// compareField is Confluent's FieldSchemaDiff.
func (d *protoDiffer) compareField(path string, original, update protoreflect.FieldDescriptor) {
	if original.Name() != update.Name() {
		d.add(path, "FIELD_NAME_CHANGED")
	}
	d.compareFieldTypes(path, protoLabel(original), protoLabel(update), original, update)
}

// protoLabel is the label written in the .proto file ("" for none, as in a
// proto3 field without one, a oneof member or a map's key and value).
func protoLabel(f protoreflect.FieldDescriptor) string {
	switch {
	case f.IsMap():
		return ""
	case f.Cardinality() == protoreflect.Repeated:
		return "repeated"
	case f.Cardinality() == protoreflect.Required:
		return "required"
	case realOneof(f) != nil:
		return ""
	case f.ParentFile().Syntax() == protoreflect.Proto3 && !f.HasOptionalKeyword():
		return ""
	}
	return "optional"
}

// Field kinds and scalar groups (values of a group share a wire encoding and
// may be read as each other, see the protobuf language guide's "Updating a message type").
func fieldKind(f protoreflect.FieldDescriptor) string {
	switch {
	case f.IsMap():
		return "MAP"
	case f.Kind() == protoreflect.MessageKind || f.Kind() == protoreflect.GroupKind:
		return "MESSAGE"
	}
	return "SCALAR"
}

func scalarKind(k protoreflect.Kind) string {
	switch k {
	case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Uint32Kind, protoreflect.Uint64Kind,
		protoreflect.BoolKind, protoreflect.EnumKind:
		return "GENERAL_NUMBER"
	case protoreflect.Sint32Kind, protoreflect.Sint64Kind:
		return "SIGNED_NUMBER"
	case protoreflect.StringKind, protoreflect.BytesKind:
		return "STRING_OR_BYTES"
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind:
		return "FIXED32"
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
		return "FIXED64"
	case protoreflect.FloatKind:
		return "FLOAT"
	case protoreflect.DoubleKind:
		return "DOUBLE"
	}
	return k.String()
}

func (d *protoDiffer) compareFieldTypes(path, originalLabel, updateLabel string, original, update protoreflect.FieldDescriptor) {
	ok, uk := fieldKind(original), fieldKind(update)
	if ok != uk {
		d.add(path, "FIELD_KIND_CHANGED")
		return
	}
	switch ok {
	case "SCALAR":
		os, us := scalarKind(original.Kind()), scalarKind(update.Kind())
		switch {
		case os != us:
			d.add(path, "FIELD_SCALAR_KIND_CHANGED")
		case originalLabel != "" && updateLabel != "" && originalLabel != updateLabel && os == "STRING_OR_BYTES":
			d.add(path, "FIELD_STRING_OR_BYTES_LABEL_CHANGED")
		case originalLabel != "" && updateLabel != "" && originalLabel != updateLabel:
			d.add(path, "FIELD_NUMERIC_LABEL_CHANGED")
		}
	case "MESSAGE":
		om, um := original.Message(), update.Message()
		if localName(om) != localName(um) {
			d.add(path, "FIELD_NAMED_TYPE_CHANGED")
			return
		}
		sub := &protoDiffer{seen: d.seen}
		sub.compareMessage(localName(om), om, um)
		d.diffs = append(d.diffs, sub.diffs...)
		for _, diff := range sub.diffs {
			if !protoCompatible(diff.kind) {
				d.add(path, "FIELD_NAMED_TYPE_CHANGED")
				break
			}
		}
	case "MAP":
		d.compareFieldTypes(path, "", "", original.MapKey(), update.MapKey())
		d.compareFieldTypes(path, "", "", original.MapValue(), update.MapValue())
	}
}

// localName is a message's full name without its file's package.
func localName(m protoreflect.MessageDescriptor) string {
	name := string(m.FullName())
	if pkg := string(m.ParentFile().Package()); pkg != "" {
		name = strings.TrimPrefix(name, pkg+".")
	}
	return name
}
