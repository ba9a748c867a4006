package testkit_test

import (
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/internal/testkit"
)

func TestOracle(t *testing.T) {
	kr, us := "KR", "US"
	events := []demo.Event{
		{Key: "a", Kind: demo.KindValid, EventType: "signup", TS: 1, V1: true},
		{Key: "a", Kind: demo.KindValid, EventType: "purchase", Amount: 150, TS: 2, Country: &kr},
		{Key: "b", Kind: demo.KindHeartbeat, EventType: "heartbeat", TS: 3},
		{Key: "a", Kind: demo.KindNegative, EventType: "purchase", Amount: -5, TS: 4},
		{Key: "b", Kind: demo.KindPoison, Poison: "short", TS: 5},
		{Key: "b", Kind: demo.KindValid, EventType: "purchase", Amount: 99.5, TS: 6, Country: &us},
		{Key: "a", Kind: demo.KindValid, EventType: "purchase", Amount: 100, TS: 7, V1: true},
		{Key: "a", Kind: demo.KindValid, EventType: "logout", TS: 8},
	}
	wantStats := map[string]testkit.UserStats{
		"a": {UserID: "a", Events: 4, Purchases: 2, TotalSpent: 250, LastEventType: "logout", LastCountry: &kr, LastTS: 8},
		"b": {UserID: "b", Events: 1, Purchases: 1, TotalSpent: 99.5, LastEventType: "purchase", LastCountry: &us, LastTS: 6},
	}
	if got := testkit.ExpectUserStats(events); !reflect.DeepEqual(got, wantStats) {
		t.Errorf("ExpectUserStats = %+v, want %+v", got, wantStats)
	}
	wantBig := map[string][]testkit.BigPurchase{"a": {{UserID: "a", Amount: 150, Country: &kr}, {UserID: "a", Amount: 100}}}
	if got := testkit.ExpectBigPurchases(events); !reflect.DeepEqual(got, wantBig) {
		t.Errorf("ExpectBigPurchases = %+v, want %+v", got, wantBig)
	}
	wantCounts := testkit.EventCounts{Poison: 1, Negative: 1, Heartbeat: 1, Big: 2}
	if got := testkit.CountEvents(events); got != wantCounts {
		t.Errorf("CountEvents = %+v, want %+v", got, wantCounts)
	}
}
