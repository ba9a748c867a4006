package testkit

import "github.com/sluicehq/sluice/internal/demo"

// The oracle: what the reference pipelines (ARCHITECTURE.md) must make of
// events from demo.GenerateEvents, computed independently of sluice.

// UserStats is the expected state of a user after the user-stats pipeline.
type UserStats struct {
	UserID        string  `json:"user_id"`
	Events        int64   `json:"events"`
	Purchases     int64   `json:"purchases"`
	TotalSpent    float64 `json:"total_spent"`
	LastEventType string  `json:"last_event_type"`
	LastCountry   *string `json:"last_country"`
	LastTS        int64   `json:"last_ts"`
}

// ExpectUserStats computes user-stats independently of sluice: heartbeats
// filtered, negative amounts and poison dead-lettered, the rest folded in
// order per key.
func ExpectUserStats(events []demo.Event) map[string]UserStats {
	out := map[string]UserStats{}
	for _, e := range events {
		if e.Kind != demo.KindValid {
			continue
		}
		s := out[e.Key]
		s.UserID = e.Key
		s.Events++
		if e.EventType == "purchase" {
			s.Purchases++
			s.TotalSpent += e.Amount
		}
		s.LastEventType = e.EventType
		if !e.V1 && e.Country != nil {
			c := *e.Country
			s.LastCountry = &c
		}
		s.LastTS = e.TS
		out[e.Key] = s
	}
	return out
}

// BigPurchase is one expected big-purchases output.
type BigPurchase struct {
	UserID  string  `json:"user_id"`
	Amount  float64 `json:"amount"`
	Country *string `json:"country"`
}

// ExpectBigPurchases lists, per key in order, the big-purchases outputs.
func ExpectBigPurchases(events []demo.Event) map[string][]BigPurchase {
	out := map[string][]BigPurchase{}
	for _, e := range events {
		if e.Kind == demo.KindPoison || e.EventType != "purchase" || e.Amount < 100 {
			continue
		}
		var c *string
		if !e.V1 {
			c = e.Country
		}
		out[e.Key] = append(out[e.Key], BigPurchase{UserID: e.Key, Amount: e.Amount, Country: c})
	}
	return out
}

// EventCounts are what the reference pipelines must count for some events.
type EventCounts struct {
	Poison    int // dead-lettered by both pipelines
	Negative  int // dead-lettered by user-stats
	Heartbeat int // filtered by user-stats
	Big       int // emitted by big-purchases
}

// CountEvents counts events by what the reference pipelines make of them.
func CountEvents(events []demo.Event) EventCounts {
	var c EventCounts
	for _, e := range events {
		switch e.Kind {
		case demo.KindPoison:
			c.Poison++
		case demo.KindNegative:
			c.Negative++
		case demo.KindHeartbeat:
			c.Heartbeat++
		}
		if e.Kind != demo.KindPoison && e.EventType == "purchase" && e.Amount >= 100 {
			c.Big++
		}
	}
	return c
}
