package codecs

import (
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestInternTable: boxed strings read back equal, the table keeps at most
// maxInterned short strings, and concurrent readers agree.
func TestInternTable(t *testing.T) {
	tab := newInternTable()
	long := strings.Repeat("x", maxInternLen+1)
	if v := tab.box(long); v != long {
		t.Errorf("long string boxed as %v", v)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2 * maxInterned {
				s := "s" + strconv.Itoa((i+g*97)%(2*maxInterned))
				if v := tab.box(s); v != s {
					t.Errorf("%q boxed as %v", s, v)
					return
				}
			}
		})
	}
	wg.Wait()
	m := *tab.strs.Load()
	if len(m) != maxInterned {
		t.Errorf("%d strings interned, want %d", len(m), maxInterned)
	}
	if _, ok := m[long]; ok {
		t.Error("a long string was interned")
	}
	for k, v := range m {
		if v != k {
			t.Errorf("%q interned as %v", k, v)
		}
	}
}
