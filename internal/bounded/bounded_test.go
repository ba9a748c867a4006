package bounded_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sluicehq/sluice/internal/bounded"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, size int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Repeat("x", size)), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	atMax, overMax := write("at", 1024), write("over", 1025)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(atMax, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, p := range []string{atMax, link} {
		if b, err := bounded.ReadFile(p, 1024); err != nil || len(b) != 1024 {
			t.Errorf("ReadFile(%s) = %d bytes, %v; want 1024 bytes", p, len(b), err)
		}
	}
	for _, c := range []struct {
		path string
		want error
		msg  string
	}{
		{overMax, bounded.ErrTooLarge, overMax + ": file too large (more than 1 KiB)"},
		{"/dev/zero", bounded.ErrNotRegular, "/dev/zero: not a regular file (a character device)"},
		{fifo, bounded.ErrNotRegular, fifo + ": not a regular file (a named pipe)"},
		{dir, bounded.ErrNotRegular, dir + ": not a regular file (a directory)"},
		{filepath.Join(dir, "missing"), os.ErrNotExist, "no such file or directory"},
	} {
		_, err := bounded.ReadFile(c.path, 1024)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("ReadFile(%s) = %v; want %v saying %q", c.path, err, c.want, c.msg)
		}
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{4 << 20: "4 MiB", 64 << 10: "64 KiB", 1000: "1000 bytes", 1<<20 + 1: "1048577 bytes"} {
		if got := bounded.Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
