package codecs

import (
	"strings"
	"sync"
	"sync/atomic"
)

// internTable hands out one boxed value (a string in an any) for each short string a
// compiled reader reads often, such as an event type or a country code: boxing a string
// read from a payload costs an allocation per value, looking it up here costs none. It
// keeps the first maxInterned distinct strings of at most maxInternLen bytes it is asked
// for and never changes them, so a lookup needs no lock: the map is copied when a string is
// added, and no more are added once it is full. Safe for concurrent use.
type internTable struct {
	strs atomic.Pointer[map[string]any]
	mu   sync.Mutex // serialises adding
}

const (
	maxInterned  = 512
	maxInternLen = 32
)

func newInternTable() *internTable {
	t := &internTable{}
	t.strs.Store(&map[string]any{})
	return t
}

// box returns s in an any, the table's own when it holds s.
func (t *internTable) box(s string) any {
	if len(s) > maxInternLen {
		return s
	}
	m := *t.strs.Load()
	if v, ok := m[s]; ok {
		return v
	}
	if len(m) >= maxInterned {
		return s
	}
	return t.add(s)
}

func (t *internTable) add(s string) any {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.strs.Load()
	if v, ok := old[s]; ok {
		return v
	}
	// A copy: s may share its bytes with others the reader read, which the table
	// would keep alive.
	var v any = strings.Clone(s)
	if len(old) >= maxInterned {
		return v
	}
	next := make(map[string]any, len(old)+1)
	for k, b := range old {
		next[k] = b
	}
	next[v.(string)] = v
	t.strs.Store(&next)
	return v
}
