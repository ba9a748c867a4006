package pipeline

import (
	"slices"
	"strconv"
	"testing"

	"github.com/lovoo/goka/storage"
)

func TestMemoryStorage(t *testing.T) {
	m := newMemoryStorage()
	if off, _ := m.GetOffset(-7); off != -7 {
		t.Errorf("offset of a new store %d, want the default -7", off)
	}
	for _, k := range []string{"b", "a2", "c", "a1", "a"} {
		if err := m.Set(k, []byte("v-"+k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Set("x", nil); err == nil {
		t.Error("Set accepted a nil value")
	}
	_ = m.Set("b", []byte("v-b2"))
	_ = m.Delete("c")
	_ = m.SetOffset(41)
	if off, _ := m.GetOffset(-1); off != 41 {
		t.Errorf("offset %d, want 41", off)
	}
	if has, _ := m.Has("c"); has {
		t.Error("a deleted key is still there")
	}
	if v, _ := m.Get("b"); string(v) != "v-b2" {
		t.Errorf("Get(b) = %q, want the last value", v)
	}
	it, _ := m.Iterator()
	_ = m.Set("0", []byte("after the snapshot"))
	if got, want := walk(t, it), []string{"a=v-a", "a1=v-a1", "a2=v-a2", "b=v-b2"}; !slices.Equal(got, want) {
		t.Errorf("Iterator: %v, want %v", got, want)
	}
	it, _ = m.IteratorWithRange([]byte("a"), nil)
	if got, want := walk(t, it), []string{"a=v-a", "a1=v-a1", "a2=v-a2"}; !slices.Equal(got, want) {
		t.Errorf("IteratorWithRange(a, nil): %v, want %v", got, want)
	}
	it, _ = m.IteratorWithRange([]byte("a1"), []byte("b"))
	if got, want := walk(t, it), []string{"a1=v-a1", "a2=v-a2"}; !slices.Equal(got, want) {
		t.Errorf("IteratorWithRange(a1, b): %v, want %v", got, want)
	}
	it, _ = m.Iterator()
	if !it.Seek([]byte("a15")) {
		t.Fatal("Seek(a15) found nothing")
	}
	if got, want := walk(t, it), []string{"a2=v-a2", "b=v-b2"}; !slices.Equal(got, want) {
		t.Errorf("after Seek(a15): %v, want %v", got, want)
	}
	if it.Seek([]byte("z")) || it.Next() || it.Key() != nil {
		t.Error("Seek past the last key found one")
	}
}

// walk returns the key=value pairs left in it.
func walk(t *testing.T, it storage.Iterator) []string {
	t.Helper()
	var out []string
	for it.Next() {
		v, err := it.Value()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(it.Key())+"="+string(v))
	}
	it.Release()
	return out
}

// BenchmarkMemoryStorageRecover writes b.N new keys, as a table recovery does.
func BenchmarkMemoryStorageRecover(b *testing.B) {
	b.ReportAllocs()
	keys := make([]string, b.N)
	for i := range keys {
		keys[i] = "user-" + strconv.Itoa((i*7919)%b.N)
	}
	m := newMemoryStorage()
	v := []byte("{}")
	b.ResetTimer()
	for i := range b.N {
		_ = m.Set(keys[i]+strconv.Itoa(i), v)
	}
}
