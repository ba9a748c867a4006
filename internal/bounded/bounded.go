// Package bounded keeps what sluice reads and echoes within bounds. ReadFile
// reads the files whose size sluice bounds, the pipelines file and the Avro
// schema files: a path that names a device (/dev/zero), a pipe or a
// directory, or a file past the bound, is refused with an error instead of
// being read for ever or into all memory. Text cuts input quoted in an error
// or a log line.
//
// It imports only the standard library, so that any package can use it.
// The rules are checked by TestImportRules (arch_test.go).
package bounded

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// The reasons of an *Error; test with errors.Is.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("file too large")
)

// Error is a file ReadFile refuses to read.
type Error struct {
	Path   string
	Reason error  // ErrNotRegular or ErrTooLarge
	Detail string // "a character device", "more than 1 MiB"
}

func (e *Error) Error() string { return e.Path + ": " + e.Problem() }

// Problem is the error without the path, for a message that names the file
// otherwise: "not a regular file (a character device)".
func (e *Error) Problem() string { return fmt.Sprintf("%v (%s)", e.Reason, e.Detail) }

func (e *Error) Unwrap() error { return e.Reason }

// ReadFile returns the contents of the regular file at path (symbolic links
// followed) when it has at most max bytes. It refuses anything else with an
// *Error, and returns the os error of a file it cannot open.
func ReadFile(path string, max int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &Error{Path: path, Reason: ErrNotRegular, Detail: kind(fi.Mode())}
	}
	if fi.Size() > max {
		return nil, tooLarge(path, max)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The file may have grown since Stat; read one byte past the bound to know.
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, tooLarge(path, max)
	}
	return b, nil
}

func tooLarge(path string, max int64) error {
	return &Error{Path: path, Reason: ErrTooLarge, Detail: "more than " + Size(max)}
}

// Size formats n bytes as "4 MiB", "64 KiB" or "1000 bytes".
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.Type().String()
}
