package demo

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// This file generates user-topic traffic: v1 and v2 writers, heartbeats,
// negative amounts and poison frames of every shape. The demo produces it;
// the integration tests produce it too and check what the reference
// pipelines make of it against testkit's oracle.

// Kinds of generated user events.
const (
	KindValid     = "valid"
	KindHeartbeat = "heartbeat"
	KindNegative  = "negative"
	KindPoison    = "poison"
)

// poisonShapes are every way a user-topic value can be undecodable.
var poisonShapes = []string{"null", "empty", "short", "magic", "unknown-id", "truncated", "corrupt", "header-only"}

// Event is one generated user-topic message.
type Event struct {
	Key       string
	Kind      string
	EventType string
	Amount    float64
	TS        int64 // Unix ms
	Country   *string
	V1        bool   // written with the v1 schema (no country)
	Poison    string // the poison shape, for KindPoison
}

// Fields is the event as a JSON-like record for the v2 (or v1) writer.
func (e Event) Fields() map[string]any {
	m := map[string]any{"user_id": e.Key, "event_type": e.EventType, "amount": e.Amount, "ts": e.TS}
	if !e.V1 {
		if e.Country != nil {
			m["country"] = *e.Country
		} else {
			m["country"] = nil
		}
	}
	return m
}

// GenerateEvents makes n events over users keys from seed: mostly valid v1
// and v2 events, some heartbeats, some negative amounts and poisonRate of
// poison frames of every shape.
func GenerateEvents(seed uint64, n, users int, poisonRate float64) []Event {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	countries := []string{"KR", "US", "DE", "JP", "BR"}
	types := []string{"signup", "login", "purchase", "purchase", "logout"}
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	out := make([]Event, n)
	for i := range out {
		e := Event{Key: fmt.Sprintf("user-%d", rng.IntN(users)), TS: base + int64(i)*1000 + rng.Int64N(500)}
		r := rng.Float64()
		switch {
		case r < poisonRate:
			e.Kind, e.Poison = KindPoison, poisonShapes[rng.IntN(len(poisonShapes))]
		case r < poisonRate+0.1:
			e.Kind, e.EventType = KindHeartbeat, "heartbeat"
		case r < poisonRate+0.15:
			e.Kind, e.EventType, e.Amount = KindNegative, "purchase", -float64(rng.IntN(100)+1)
		default:
			e.Kind, e.EventType = KindValid, types[rng.IntN(len(types))]
			if e.EventType == "purchase" {
				e.Amount = float64(rng.IntN(30000)) / 100
			}
		}
		e.V1 = rng.IntN(2) == 0
		if !e.V1 && rng.IntN(3) > 0 {
			c := countries[rng.IntN(len(countries))]
			e.Country = &c
		}
		out[i] = e
	}
	return out
}

// Encoder turns a record into a Confluent frame (an Avro codec's Encode).
type Encoder func(v any) ([]byte, error)

// Records turns events into records for topic: valid ones framed by v1 or v2,
// poison ones shaped as their Poison names. unknownID must be a schema id
// the registry does not know.
func Records(topic string, events []Event, v1, v2 Encoder, unknownID int) ([]*kgo.Record, error) {
	out := make([]*kgo.Record, len(events))
	for i, e := range events {
		r := &kgo.Record{Topic: topic, Key: []byte(e.Key)}
		enc := v2
		if e.V1 {
			enc = v1
		}
		if e.Kind != KindPoison {
			b, err := enc(e.Fields())
			if err != nil {
				return nil, fmt.Errorf("event %d: %w", i, err)
			}
			r.Value = b
			out[i] = r
			continue
		}
		good, err := v2(Event{Key: e.Key, EventType: "login", TS: e.TS}.Fields())
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		r.Value = poisonFrame(e.Poison, good, unknownID)
		out[i] = r
	}
	return out, nil
}

func poisonFrame(shape string, good []byte, unknownID int) []byte {
	switch shape {
	case "null":
		return nil
	case "empty":
		return []byte{}
	case "short":
		return []byte{0, 0, 0}
	case "magic":
		b := append([]byte(nil), good...)
		b[0] = 1
		return b
	case "unknown-id":
		b := append([]byte(nil), good...)
		b[1], b[2], b[3], b[4] = byte(unknownID>>24), byte(unknownID>>16), byte(unknownID>>8), byte(unknownID)
		return b
	case "truncated":
		return append([]byte(nil), good[:5+(len(good)-5)/2]...)
	case "corrupt":
		// A string length of -1 (zig-zag 0x01) where user_id starts.
		return append(append([]byte(nil), good[:5]...), 0x01, 0xff, 0xff)
	case "header-only":
		return append([]byte(nil), good[:5]...)
	}
	panic("unknown poison shape " + shape)
}
