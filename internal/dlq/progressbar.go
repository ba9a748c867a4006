package dlq

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// ProgressBar renders Progress on a writer (stderr): redrawn in place with
// \r at most every 200ms on a terminal, else a plain line every few seconds.
type ProgressBar struct {
	w        io.Writer
	terminal bool
	now      func() time.Time
	start    time.Time
	last     time.Time
	drawn    bool
	updated  bool
	latest   Progress
}

// Redraw intervals of the progress bar.
const (
	terminalRedraw = 200 * time.Millisecond
	plainRedraw    = 5 * time.Second
	barWidth       = 30
)

// NewProgressBar returns a bar on w; terminal says whether w is one. now is
// the clock (nil means time.Now).
func NewProgressBar(w io.Writer, terminal bool, now func() time.Time) *ProgressBar {
	if now == nil {
		now = time.Now
	}
	return &ProgressBar{w: w, terminal: terminal, now: now, start: now()}
}

// Update records p and redraws when enough time has passed.
func (b *ProgressBar) Update(p Progress) {
	b.latest, b.updated = p, true
	now := b.now()
	every := plainRedraw
	if b.terminal {
		every = terminalRedraw
	}
	if b.drawn && now.Sub(b.last) < every {
		return
	}
	b.draw(now)
}

// Finish draws the final state and ends the line; it draws nothing when
// Update was never called.
func (b *ProgressBar) Finish() {
	if !b.updated {
		return
	}
	b.draw(b.now())
	if b.terminal {
		fmt.Fprintln(b.w)
	}
}

func (b *ProgressBar) draw(now time.Time) {
	b.last, b.drawn = now, true
	line := b.Line(now)
	if b.terminal {
		fmt.Fprintf(b.w, "\r%s\x1b[K", line)
		return
	}
	fmt.Fprintln(b.w, line)
}

// Line renders the latest progress as of now: bar, count/total, percentage,
// rate and ETA.
func (b *ProgressBar) Line(now time.Time) string {
	p := b.latest
	frac := 1.0
	if p.Total > 0 {
		frac = min(1, float64(p.Done)/float64(p.Total))
	}
	fill := int(frac * barWidth)
	bar := strings.Repeat("=", fill)
	if fill < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-fill-1)
	}
	elapsed := now.Sub(b.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.Done) / elapsed
	}
	eta := "?"
	switch {
	case p.Done >= p.Total:
		eta = "0s"
	case rate > 0:
		eta = time.Duration(float64(p.Total-p.Done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("replay [%s] %d/%d %3.0f%% %.1f msg/s ETA %s (replayed %d, skipped %d)",
		bar, p.Done, p.Total, frac*100, rate, eta, p.Replayed, p.Skipped)
}
