package codecs_test

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/codecs"
)

// The UserEvent of testdata/user_event.json, as the Protobuf and JSON Schema
// codecs take it.
var formatsBenchEvent = map[string]any{
	"user_id": "user-000042", "event_type": "purchase", "amount": 149.99,
	"ts": time.UnixMilli(1_764_149_400_123).UTC(), "country": "DE",
}

func BenchmarkProtobuf(b *testing.B) {
	reg := newTestRegistry(b).client()
	c := mustProtobuf(b, reg, mustProto(b, "UserEvent"), codecs.WithSubjectName("bench-proto"))
	frame, err := c.Encode(formatsBenchEvent)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Decode(frame); err != nil { // warm the writer cache
		b.Fatal(err)
	}
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Decode(frame); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Encode(formatsBenchEvent); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkJSONSchema(b *testing.B) {
	reg := newTestRegistry(b).client()
	c := mustJSONSchema(b, reg, jsonSchemaText(b), codecs.WithSubjectName("bench-json"))
	frame, err := c.Encode(formatsBenchEvent)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Decode(frame); err != nil {
		b.Fatal(err)
	}
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Decode(frame); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Encode(formatsBenchEvent); err != nil {
				b.Fatal(err)
			}
		}
	})
}
