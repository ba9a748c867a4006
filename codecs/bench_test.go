package codecs_test

import (
	"encoding/json"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
)

// benchFixture is the UserEvent of testdata/user_event.json as a canonical v2 value, its
// plain Avro payloads (v1 and v2) and its framed v1/v2 messages, with warm codecs.
type benchFixture struct {
	v2, v1         avro.Schema
	event          map[string]any
	payloadV1      []byte
	payloadV2      []byte
	frameV1        []byte
	frameV2        []byte
	reader, writer *codecs.Avro
}

func newBenchFixture(b *testing.B) *benchFixture {
	b.Helper()
	var raw map[string]any
	if err := json.Unmarshal([]byte(readFile(b, "testdata/user_event.json")), &raw); err != nil {
		b.Fatal(err)
	}
	reg := newTestRegistry(b).client()
	s := codecs.NewSchemas()
	f := &benchFixture{v1: mustParse(b, s, userEventV1(b))}
	f.v2 = mustParse(b, s, userEventV2(b))
	ev, err := codecs.Coerce(f.v2, raw)
	if err != nil {
		b.Fatal(err)
	}
	f.event = ev.(map[string]any)
	v1Writer := mustAvro(b, reg, s, f.v1, codecs.WithSubjectName("bench-v1"))
	f.writer = mustAvro(b, reg, s, f.v2, codecs.WithSubjectName("bench-v2"))
	f.reader = mustAvro(b, reg, s, f.v2)
	if f.frameV2, err = f.writer.Encode(f.event); err != nil {
		b.Fatal(err)
	}
	if f.frameV1, err = v1Writer.Encode(f.event); err != nil {
		b.Fatal(err)
	}
	f.payloadV1, f.payloadV2 = f.frameV1[5:], f.frameV2[5:]
	for _, fr := range [][]byte{f.frameV1, f.frameV2} { // warm the writer cache
		if _, err := f.reader.Decode(fr); err != nil {
			b.Fatal(err)
		}
	}
	return f
}

func BenchmarkAvroDecode(b *testing.B) {
	f := newBenchFixture(b)
	b.Run("baseline_hamba_unmarshal_v2", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m map[string]any
			if err := avro.Unmarshal(f.v2, f.payloadV2, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("framed_v2_to_v2", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.reader.Decode(f.frameV2); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline_hamba_unmarshal_v1", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m map[string]any
			if err := avro.Unmarshal(f.v1, f.payloadV1, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("framed_v1_to_v2_resolving", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.reader.Decode(f.frameV1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("framed_v2_to_v2_parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := f.reader.Decode(f.frameV2); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

func BenchmarkAvroEncode(b *testing.B) {
	f := newBenchFixture(b)
	b.Run("baseline_hamba_marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := avro.Marshal(f.v2, f.event); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("framed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.writer.Encode(f.event); err != nil {
				b.Fatal(err)
			}
		}
	})
}
