package e2e

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pipeline"
)

// ownSample is what the instances of the monitor's slots reported at one
// poll: per pipeline, per slot, the partitions that slot owns (nil when the
// slot is empty, its instance does not answer, or the pipeline is not ready
// there).
type ownSample struct {
	at    time.Time
	owned map[string][][]int32
}

// ownershipMonitor polls /pipelines of the instances in its slots every
// 50ms and keeps every answer, so that the test can tell when each pipeline
// had every partition owned.
type ownershipMonitor struct {
	pipelines  []string
	partitions int

	mu      sync.Mutex
	slots   []*instance
	samples []ownSample
}

// pollEvery is the monitor's poll interval: the resolution of its timings.
const pollEvery = 50 * time.Millisecond

func (m *ownershipMonitor) run(ctx context.Context) {
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		s := m.poll()
		m.mu.Lock()
		m.samples = append(m.samples, s)
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (m *ownershipMonitor) setSlot(i int, in *instance) {
	m.mu.Lock()
	m.slots[i] = in
	m.mu.Unlock()
}

// poll asks every instance at once; the sample's time is when it asked.
func (m *ownershipMonitor) poll() ownSample {
	m.mu.Lock()
	slots := slices.Clone(m.slots)
	m.mu.Unlock()
	s := ownSample{at: time.Now(), owned: map[string][][]int32{}}
	for _, name := range m.pipelines {
		s.owned[name] = make([][]int32, len(slots))
	}
	var wg sync.WaitGroup
	for i, in := range slots {
		if in == nil {
			continue
		}
		wg.Go(func() {
			ready := in.readyPartitions()
			for _, name := range m.pipelines {
				s.owned[name][i] = ready[name]
			}
		})
	}
	wg.Wait()
	return s
}

// readyPartitions returns, per pipeline that is ready on this instance, the
// partitions it owns; nil when the instance does not answer.
func (in *instance) readyPartitions() map[string][]int32 {
	var st []pipeline.Status
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if code, err := getJSON(ctx, "http://"+in.http+"/pipelines", &st); err != nil || code != 200 {
		return nil
	}
	out := map[string][]int32{}
	for _, s := range st {
		if s.Ready {
			out[s.Name] = s.Partitions
		}
	}
	return out
}

func (m *ownershipMonitor) latest() ownSample {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.samples) == 0 {
		return ownSample{}
	}
	return m.samples[len(m.samples)-1]
}

func (m *ownershipMonitor) snapshot() []ownSample {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.samples)
}

// settled reports whether, in s, the live slots own every partition of the
// pipeline exactly once, each some, and no other slot owns any.
func (m *ownershipMonitor) settled(s ownSample, name string, live []int) bool {
	count := make([]int, m.partitions)
	for slot, parts := range s.owned[name] {
		if !slices.Contains(live, slot) {
			if len(parts) > 0 {
				return false
			}
			continue
		}
		if len(parts) == 0 {
			return false
		}
		for _, p := range parts {
			if p < 0 || int(p) >= m.partitions {
				return false
			}
			count[p]++
		}
	}
	for _, c := range count {
		if c != 1 {
			return false
		}
	}
	return true
}

// allOwned reports whether, in s, every partition of every pipeline is owned.
func (m *ownershipMonitor) allOwned(s ownSample) bool {
	for _, name := range m.pipelines {
		seen := map[int32]bool{}
		for _, parts := range s.owned[name] {
			for _, p := range parts {
				seen[p] = true
			}
		}
		if len(seen) < m.partitions {
			return false
		}
	}
	return true
}

// settleHold is how long a pipeline must stay settled for a change to count
// as over: a rebalance that follows at once is part of the same change.
const settleHold = time.Second

// waitSettled waits until every pipeline has been settled on the live slots
// for settleHold, and returns per pipeline how long after began its
// settled run started.
func (m *ownershipMonitor) waitSettled(t *testing.T, what string, began time.Time, live []int) map[string]time.Duration {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		samples := m.snapshot()
		took := map[string]time.Duration{}
		for _, name := range m.pipelines {
			var since time.Time // the start of the settled run that reaches the last sample
			for _, s := range samples {
				switch {
				case s.at.Before(began):
				case !m.settled(s, name, live):
					since = time.Time{}
				case since.IsZero():
					since = s.at
				}
			}
			if !since.IsZero() && samples[len(samples)-1].at.Sub(since) >= settleHold {
				took[name] = since.Sub(began)
			}
		}
		if len(took) == len(m.pipelines) {
			return took
		}
		if time.Now().After(deadline) {
			last := samples[len(samples)-1]
			for slot, in := range m.slots {
				if in != nil {
					t.Logf("%s: %s owns %v; log:\n%s", what, in.name, ownedBy(last, slot, m.pipelines), in.proc.tail(15))
				}
			}
			t.Fatalf("%s: timed out after 3m waiting for slots %v to own every partition once each, each some (owners logged above)", what, live)
		}
		time.Sleep(pollEvery)
	}
}

func ownedBy(s ownSample, slot int, pipelines []string) map[string][]int32 {
	out := map[string][]int32{}
	for _, name := range pipelines {
		if slot < len(s.owned[name]) {
			out[name] = s.owned[name][slot]
		}
	}
	return out
}

// allOwnedShare returns the share of the time from from to to during which
// every partition of every pipeline was owned, and that time.
func (m *ownershipMonitor) allOwnedShare(from, to time.Time) (float64, time.Duration) {
	samples := m.snapshot()
	var owned time.Duration
	for i, s := range samples {
		if i+1 == len(samples) || s.at.Before(from) || !s.at.Before(to) {
			continue
		}
		if m.allOwned(s) {
			end := samples[i+1].at
			if end.After(to) {
				end = to
			}
			owned += end.Sub(s.at)
		}
	}
	window := to.Sub(from)
	if window <= 0 {
		return 1, 0
	}
	return float64(owned) / float64(window), window
}

// gaps returns the lengths of the stretches from from to to during which
// some partition of some pipeline was not owned.
func (m *ownershipMonitor) gaps(from, to time.Time) []time.Duration {
	samples := m.snapshot()
	var out []time.Duration
	var gapStart time.Time
	for i, s := range samples {
		if s.at.Before(from) {
			continue
		}
		end := i+1 == len(samples) || !s.at.Before(to)
		switch {
		case !m.allOwned(s) && gapStart.IsZero() && !end:
			gapStart = s.at
		case (m.allOwned(s) || end) && !gapStart.IsZero():
			out = append(out, s.at.Sub(gapStart))
			gapStart = time.Time{}
		}
		if end {
			break
		}
	}
	return out
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(10 * time.Millisecond)
	}
	return out
}

// moved returns, per pipeline, how many partitions are owned by another
// slot now than just before began (unowned then counts as another slot).
func (m *ownershipMonitor) moved(began time.Time) map[string]int {
	samples := m.snapshot()
	i := slices.IndexFunc(samples, func(s ownSample) bool { return !s.at.Before(began) })
	if i <= 0 {
		return nil
	}
	before, now := samples[i-1], samples[len(samples)-1]
	owner := func(s ownSample, name string, p int32) int {
		for slot, parts := range s.owned[name] {
			if slices.Contains(parts, p) {
				return slot
			}
		}
		return -1
	}
	out := map[string]int{}
	for _, name := range m.pipelines {
		for p := range int32(m.partitions) {
			if owner(before, name, p) != owner(now, name, p) {
				out[name]++
			}
		}
	}
	return out
}

// othersKept reports whether, from from to to, every slot but restarted
// owned the partitions it owned in before, in every sample.
func (m *ownershipMonitor) othersKept(from, to time.Time, restarted int, before ownSample) bool {
	for _, s := range m.snapshot() {
		if s.at.Before(from) || s.at.After(to) {
			continue
		}
		for _, name := range m.pipelines {
			for slot, parts := range s.owned[name] {
				if slot != restarted && slot < len(before.owned[name]) && !slices.Equal(sorted(parts), sorted(before.owned[name][slot])) {
					return false
				}
			}
		}
	}
	return true
}

func sorted(ps []int32) []int32 {
	s := slices.Clone(ps)
	slices.Sort(s)
	return s
}
