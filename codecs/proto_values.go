package codecs

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Well-known message types with a canonical value of their own.
const (
	protoTimestamp = "google.protobuf.Timestamp"
	protoDuration  = "google.protobuf.Duration"
)

// isProtoWrapper reports whether md is one of google/protobuf/wrappers.proto's
// messages, whose canonical value is the wrapped value (nil when unset).
func isProtoWrapper(md protoreflect.MessageDescriptor) bool {
	return md.ParentFile() != nil && md.ParentFile().Path() == "google/protobuf/wrappers.proto"
}

// protoToMap converts a decoded message into the canonical record form:
// every field of the message by its proto name.
//
//	int32, sint32, sfixed32             int32
//	int64, sint64, sfixed64, uint32     int64
//	uint64, fixed64                     int64 (a value past the int64 range is an error)
//	float / double                      float32 / float64
//	bool, string, bytes                 bool, string, []byte
//	enum                                string (the value's name; the number for an unknown value)
//	message                             map[string]any; nil when unset
//	google.protobuf.Timestamp           time.Time (UTC); Duration time.Duration
//	google.protobuf.*Value wrappers     the wrapped value; nil when unset
//	repeated                            []any
//	map                                 map[string]any (keys as strings)
//
// A field with presence (proto3 optional, a oneof member, proto2 optional)
// that is unset is nil; other scalars read their default (0, "", false).
func protoToMap(m protoreflect.Message) (map[string]any, error) {
	fields := m.Descriptor().Fields()
	out := make(map[string]any, fields.Len())
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		v, err := protoField(m, fd)
		if err != nil {
			return nil, at(string(fd.Name()), err)
		}
		out[string(fd.Name())] = v
	}
	return out, nil
}

func protoField(m protoreflect.Message, fd protoreflect.FieldDescriptor) (any, error) {
	switch {
	case fd.IsList():
		l := m.Get(fd).List()
		out := make([]any, l.Len())
		for i := range out {
			v, err := protoScalar(fd, l.Get(i))
			if err != nil {
				return nil, at("["+strconv.Itoa(i)+"]", err)
			}
			out[i] = v
		}
		return out, nil
	case fd.IsMap():
		mp := m.Get(fd).Map()
		out := make(map[string]any, mp.Len())
		var err error
		mp.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
			var x any
			if x, err = protoScalar(fd.MapValue(), v); err != nil {
				err = at("["+k.String()+"]", err)
				return false
			}
			out[k.String()] = x
			return true
		})
		return out, err
	case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
		if !m.Has(fd) {
			return nil, nil
		}
	case fd.HasPresence() && !m.Has(fd):
		return nil, nil
	}
	return protoScalar(fd, m.Get(fd))
}

// protoScalar converts one value of field fd (an element, for a list).
func protoScalar(fd protoreflect.FieldDescriptor, v protoreflect.Value) (any, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return v.Bool(), nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return int32(v.Int()), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return v.Int(), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return int64(v.Uint()), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		u := v.Uint()
		if u > math.MaxInt64 {
			return nil, fmt.Errorf("%d does not fit a long", u)
		}
		return int64(u), nil
	case protoreflect.FloatKind:
		return float32(v.Float()), nil
	case protoreflect.DoubleKind:
		return v.Float(), nil
	case protoreflect.StringKind:
		return v.String(), nil
	case protoreflect.BytesKind:
		return append([]byte{}, v.Bytes()...), nil
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name()), nil
		}
		return strconv.Itoa(int(v.Enum())), nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return protoMessageValue(v.Message())
	}
	return nil, fmt.Errorf("unsupported field kind %s", fd.Kind())
}

func protoMessageValue(m protoreflect.Message) (any, error) {
	md := m.Descriptor()
	switch {
	case md.FullName() == protoTimestamp:
		f := md.Fields()
		sec, nanos := m.Get(f.ByName("seconds")).Int(), m.Get(f.ByName("nanos")).Int()
		return time.Unix(sec, nanos).UTC(), nil
	case md.FullName() == protoDuration:
		f := md.Fields()
		sec, nanos := m.Get(f.ByName("seconds")).Int(), m.Get(f.ByName("nanos")).Int()
		return time.Duration(sec)*time.Second + time.Duration(nanos), nil
	case isProtoWrapper(md):
		fd := md.Fields().ByName("value")
		return protoScalar(fd, m.Get(fd))
	}
	return protoToMap(m)
}

// mapToProto builds a message of md from a canonical record (or what
// Coerce accepts: JSON numbers, int, float64 for an integer field that holds
// one). A key that is not a field of md is an error, as is a value of the
// wrong type.
func mapToProto(md protoreflect.MessageDescriptor, rec map[string]any) (*dynamicpb.Message, error) {
	m := dynamicpb.NewMessage(md)
	keys := make([]string, 0, len(rec))
	for k := range rec {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the first error reported is the same every time
	for _, k := range keys {
		fd := md.Fields().ByName(protoreflect.Name(k))
		if fd == nil {
			fd = md.Fields().ByJSONName(k)
		}
		if fd == nil {
			return nil, at(k, fmt.Errorf("no such field in %s", md.FullName()))
		}
		if err := setProtoField(m, fd, rec[k]); err != nil {
			return nil, at(k, err)
		}
	}
	return m, nil
}

func setProtoField(m *dynamicpb.Message, fd protoreflect.FieldDescriptor, v any) error {
	if v == nil {
		return nil // unset
	}
	switch {
	case fd.IsList():
		items, ok := v.([]any)
		if !ok {
			return typeError("array", v)
		}
		l := m.Mutable(fd).List()
		for i, e := range items {
			pv, err := protoValue(fd, l.NewElement, e)
			if err != nil {
				return at("["+strconv.Itoa(i)+"]", err)
			}
			l.Append(pv)
		}
		return nil
	case fd.IsMap():
		entries, ok := v.(map[string]any)
		if !ok {
			return typeError("map", v)
		}
		mp := m.Mutable(fd).Map()
		for k, e := range entries {
			mk, err := protoMapKey(fd.MapKey(), k)
			if err != nil {
				return at("["+k+"]", err)
			}
			pv, err := protoValue(fd.MapValue(), mp.NewValue, e)
			if err != nil {
				return at("["+k+"]", err)
			}
			mp.Set(mk, pv)
		}
		return nil
	}
	pv, err := protoValue(fd, func() protoreflect.Value { return m.NewField(fd) }, v)
	if err != nil {
		return err
	}
	m.Set(fd, pv)
	return nil
}

func protoMapKey(fd protoreflect.FieldDescriptor, k string) (protoreflect.MapKey, error) {
	if fd.Kind() == protoreflect.StringKind {
		return protoreflect.ValueOfString(k).MapKey(), nil
	}
	pv, err := protoValue(fd, nil, json.Number(k))
	if err != nil {
		return protoreflect.MapKey{}, err
	}
	return pv.MapKey(), nil
}

// protoValue converts v to a value of field fd; newMsg makes an empty
// message value for a message field.
func protoValue(fd protoreflect.FieldDescriptor, newMsg func() protoreflect.Value, v any) (protoreflect.Value, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		if b, ok := v.(bool); ok {
			return protoreflect.ValueOfBool(b), nil
		}
		return protoreflect.Value{}, typeError("boolean", v)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		i, err := protoInt(v, math.MinInt32, math.MaxInt32, "int")
		return protoreflect.ValueOfInt32(int32(i)), err
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		i, err := protoInt(v, math.MinInt64, math.MaxInt64, "long")
		return protoreflect.ValueOfInt64(i), err
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		i, err := protoInt(v, 0, math.MaxUint32, "uint32")
		return protoreflect.ValueOfUint32(uint32(i)), err
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		i, err := protoInt(v, 0, math.MaxInt64, "uint64")
		return protoreflect.ValueOfUint64(uint64(i)), err
	case protoreflect.FloatKind:
		f, err := toFloat64(v)
		return protoreflect.ValueOfFloat32(float32(f)), err
	case protoreflect.DoubleKind:
		f, err := toFloat64(v)
		return protoreflect.ValueOfFloat64(f), err
	case protoreflect.StringKind:
		if s, ok := v.(string); ok {
			return protoreflect.ValueOfString(s), nil
		}
		return protoreflect.Value{}, typeError("string", v)
	case protoreflect.BytesKind:
		switch b := v.(type) {
		case []byte:
			return protoreflect.ValueOfBytes(b), nil
		case string:
			return protoreflect.ValueOfBytes([]byte(b)), nil
		}
		return protoreflect.Value{}, typeError("bytes", v)
	case protoreflect.EnumKind:
		return protoEnum(fd.Enum(), v)
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return protoMessage(fd.Message(), newMsg, v)
	}
	return protoreflect.Value{}, fmt.Errorf("unsupported field kind %s", fd.Kind())
}

func protoEnum(ed protoreflect.EnumDescriptor, v any) (protoreflect.Value, error) {
	if s, ok := v.(string); ok {
		if ev := ed.Values().ByName(protoreflect.Name(s)); ev != nil {
			return protoreflect.ValueOfEnum(ev.Number()), nil
		}
		if n, err := strconv.ParseInt(s, 10, 32); err == nil {
			return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), nil
		}
		return protoreflect.Value{}, fmt.Errorf("%q is not a value of enum %s", s, ed.FullName())
	}
	n, err := protoInt(v, math.MinInt32, math.MaxInt32, "enum")
	return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), err
}

func protoMessage(md protoreflect.MessageDescriptor, newMsg func() protoreflect.Value, v any) (protoreflect.Value, error) {
	if newMsg == nil {
		return protoreflect.Value{}, errors.New("a message cannot be a map key")
	}
	msg := newMsg().Message()
	f := md.Fields()
	switch {
	case md.FullName() == protoTimestamp:
		t, ok := v.(time.Time)
		if !ok {
			ms, err := protoInt(v, math.MinInt64, math.MaxInt64, "timestamp (Unix milliseconds)")
			if err != nil {
				return protoreflect.Value{}, err
			}
			t = time.UnixMilli(ms)
		}
		msg.Set(f.ByName("seconds"), protoreflect.ValueOfInt64(t.Unix()))
		msg.Set(f.ByName("nanos"), protoreflect.ValueOfInt32(int32(t.Nanosecond())))
		return protoreflect.ValueOfMessage(msg), nil
	case md.FullName() == protoDuration:
		d, ok := v.(time.Duration)
		if !ok {
			ms, err := protoInt(v, math.MinInt64, math.MaxInt64, "duration (milliseconds)")
			if err != nil {
				return protoreflect.Value{}, err
			}
			d = time.Duration(ms) * time.Millisecond
		}
		msg.Set(f.ByName("seconds"), protoreflect.ValueOfInt64(int64(d/time.Second)))
		msg.Set(f.ByName("nanos"), protoreflect.ValueOfInt32(int32(d%time.Second)))
		return protoreflect.ValueOfMessage(msg), nil
	case isProtoWrapper(md):
		fd := f.ByName("value")
		pv, err := protoValue(fd, nil, v)
		if err != nil {
			return protoreflect.Value{}, err
		}
		msg.Set(fd, pv)
		return protoreflect.ValueOfMessage(msg), nil
	}
	rec, ok := v.(map[string]any)
	if !ok {
		return protoreflect.Value{}, typeError("record", v)
	}
	keys := make([]string, 0, len(rec))
	for k := range rec {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	dm, ok := msg.(*dynamicpb.Message)
	if !ok {
		return protoreflect.Value{}, fmt.Errorf("message %s is not dynamic", md.FullName())
	}
	for _, k := range keys {
		fd := f.ByName(protoreflect.Name(k))
		if fd == nil {
			fd = f.ByJSONName(k)
		}
		if fd == nil {
			return protoreflect.Value{}, at(k, fmt.Errorf("no such field in %s", md.FullName()))
		}
		if err := setProtoField(dm, fd, rec[k]); err != nil {
			return protoreflect.Value{}, at(k, err)
		}
	}
	return protoreflect.ValueOfMessage(msg), nil
}

// protoInt reads an integer in [lo, hi] from the Go values decoders and
// Coerce produce (toInt64's), what naming the type in a range error.
func protoInt(v any, lo, hi int64, what string) (int64, error) {
	i, err := toInt64(v)
	if err != nil {
		return 0, err
	}
	if i < lo || i > hi {
		return 0, rangeError(what, i)
	}
	return i, nil
}
