package pipeline

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testkit"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

var errPoison = errors.New("schema id 7 not found")

// TestBreakerOpensOnAFloodOnly: poison below the ratio is dead-lettered; a
// share at the ratio, once the window holds min_messages, opens the breaker
// on exactly the message that reached it; other stages and kinds do not
// add up; a held message's success closes it and starts a fresh window.
func TestBreakerOpensOnAFloodOnly(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	b := newBreaker(Breaker{Ratio: 0.5, MinMessages: 20, Window: 10 * time.Second}, clock.now)

	// 30 good, 10 poison at decode, 10 poison at validate: 20 % each.
	for i := range 50 {
		switch {
		case i%5 == 1:
			if hold, _ := b.deadLetter("decode", "poison", errPoison, clock.now(), false); hold {
				t.Fatalf("message %d: held with 20%% decode poison", i)
			}
		case i%5 == 3:
			if hold, _ := b.deadLetter("validate", "poison", errPoison, clock.now(), false); hold {
				t.Fatalf("message %d: held with 20%% validate poison", i)
			}
		default:
			b.passed()
		}
	}
	// A flood at decode: the share of decode/poison reaches 0.5 when
	// (10+n) >= 0.5*(50+n), at n = 30.
	for n := 1; n <= 29; n++ {
		if hold, trip := b.deadLetter("decode", "poison", errPoison, clock.now(), false); hold || trip != nil {
			t.Fatalf("flood message %d: held (trip %+v) below the ratio", n, trip)
		}
	}
	hold, trip := b.deadLetter("decode", "poison", errPoison, clock.now(), false)
	if !hold || trip == nil || trip.count != 40 || trip.total != 80 || trip.key != (letterKey{"decode", "poison"}) {
		t.Fatalf("flood message 30: hold %v trip %+v, want the breaker to open at 40 of 80", hold, trip)
	}
	st := b.snapshot()
	if !st.Open || st.Stage != "decode" || st.Kind != "poison" || !strings.Contains(st.Reason, "40 of the last 80") || !strings.Contains(st.Reason, errPoison.Error()) {
		t.Errorf("status after opening: %+v", st)
	}
	// While open, everything that would be dead-lettered is held, and
	// nothing is counted.
	if hold, trip := b.deadLetter("validate", "poison", errPoison, clock.now(), false); !hold || trip != nil {
		t.Errorf("open breaker: validate poison hold %v trip %+v, want held without a new trip", hold, trip)
	}
	b.passed()

	// Another held message's attempt began before the close: its failure
	// raced with the success that closed the breaker, so it is held again
	// rather than judged.
	raced := clock.now()
	clock.advance(time.Millisecond)
	if !b.heldSucceeded() {
		t.Fatal("heldSucceeded on an open breaker reported it closed already")
	}
	if b.heldSucceeded() {
		t.Error("heldSucceeded closed a closed breaker")
	}
	if st := b.snapshot(); st.Open || st.Stage != "decode" {
		t.Errorf("status after closing: %+v, want closed, naming the stage that opened it", st)
	}
	if hold, _ := b.deadLetter("decode", "poison", errPoison, raced, true); !hold {
		t.Error("a held message was dead-lettered on an attempt that began before the breaker closed")
	}
	// The window starts afresh: fewer than min_messages never open it. The
	// first is a held message tried again after the close: judged as any.
	for n := 1; n < 20; n++ {
		if hold, _ := b.deadLetter("decode", "poison", errPoison, clock.now(), n == 1); hold {
			t.Fatalf("after closing, dead letter %d held with fewer than min_messages in the window", n)
		}
	}
	if hold, _ := b.deadLetter("decode", "poison", errPoison, clock.now(), false); !hold {
		t.Error("20 of 20 decode poison after closing did not open the breaker again")
	}
}

// TestBreakerWindowSlides: failures older than the window no longer count.
func TestBreakerWindowSlides(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	b := newBreaker(Breaker{Ratio: 0.5, MinMessages: 10, Window: 10 * time.Second}, clock.now)
	for range 9 {
		if hold, _ := b.deadLetter("lookup", "exhausted", errPoison, clock.now(), false); hold {
			t.Fatal("held below min_messages")
		}
	}
	clock.advance(11 * time.Second) // the nine slide out of the window
	for range 20 {
		b.passed()
	}
	if hold, _ := b.deadLetter("lookup", "exhausted", errPoison, clock.now(), false); hold {
		t.Error("held on 1 of 21 messages in the window: the old failures still count")
	}
}

// TestBreakerOff: an off breaker never holds and reports no status.
func TestBreakerOff(t *testing.T) {
	b := newBreaker(Breaker{Off: true, Ratio: 0.5, MinMessages: 1, Window: time.Second}, time.Now)
	for range 100 {
		if hold, _ := b.deadLetter("decode", "poison", errPoison, time.Now(), false); hold {
			t.Fatal("an off breaker held a message")
		}
	}
	if st := b.snapshot(); st != nil {
		t.Errorf("status of an off breaker: %+v", st)
	}
}

// TestBreakerIgnoresLate: late records never open the breaker, however
// many: holding one would wait forever, since stream time never goes back.
func TestBreakerIgnoresLate(t *testing.T) {
	b := newBreaker(Breaker{Ratio: 0.5, MinMessages: 1, Window: time.Minute}, time.Now)
	for i := range 100 {
		if hold, _ := b.deadLetter("window", "late", errPoison, time.Now(), false); hold {
			t.Fatalf("late record %d held", i)
		}
	}
	if hold, _ := b.deadLetter("decode", "poison", errPoison, time.Now(), false); !hold {
		t.Error("poison at the ratio after late records was not held")
	}
}

// TestLetterLogRateLimited: the first dead letter is logged at once with its
// error, the next ones as counts by stage and kind, at most once per period
// (or when flushed), so every dead letter is counted in some line.
func TestLetterLogRateLimited(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	var buf testkit.LogBuffer
	l := newLetterLog(slog.New(slog.NewTextHandler(&buf, nil)), 10*time.Second, clock.now)
	lines := func() []string {
		s := strings.TrimSpace(buf.String())
		if s == "" {
			return nil
		}
		return strings.Split(s, "\n")
	}

	l.add("decode", "poison", 2, 17, errPoison)
	if got := lines(); len(got) != 1 || !strings.Contains(got[0], "level=WARN") || !strings.Contains(got[0], "count=1") ||
		!strings.Contains(got[0], "decode/poison=1") || !strings.Contains(got[0], "partition 2 offset 17: schema id 7 not found") {
		t.Fatalf("after the first dead letter: %q", got)
	}
	for range 5 {
		clock.advance(time.Second)
		l.add("validate", "poison", 0, 3, errors.New("amount must not be negative"))
	}
	l.add("decode", "poison", 1, 4, errPoison)
	if got := lines(); len(got) != 1 {
		t.Fatalf("logged again within 10s: %q", got)
	}
	clock.advance(5 * time.Second)
	l.add("decode", "poison", 1, 5, errPoison)
	got := lines()
	if len(got) != 2 || !strings.Contains(got[1], "count=7") || !strings.Contains(got[1], `by="decode/poison=2 validate/poison=5"`) ||
		!strings.Contains(got[1], "validate/poison at partition 0 offset 3: amount must not be negative") {
		t.Fatalf("the second line should count the 7 since the first: %q", got)
	}
	l.add("decode", "poison", 1, 6, errPoison)
	l.flush()
	l.flush() // nothing pending: no line
	if got := lines(); len(got) != 3 || !strings.Contains(got[2], "count=1") {
		t.Fatalf("flush should write the one pending count once: %q", got)
	}
}
