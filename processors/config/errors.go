package config

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a position in a configuration file. Line and Col are 1-based.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Shift returns p moved by col columns on the same line.
func (p Pos) Shift(col int) Pos {
	p.Col += col
	return p
}

// Error is one problem found at a position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Errors is every problem found in a configuration, in file order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Reporter collects problems while a configuration is read.
type Reporter struct {
	errs Errors
	// unexpanded are the positions of values whose ${VAR} failed to expand:
	// whatever else is said of such a value ("not an integer", "empty") is
	// a consequence, and is not reported.
	unexpanded map[Pos]bool
}

// Errorf records a problem at pos.
func (r *Reporter) Errorf(pos Pos, format string, args ...any) {
	if r.unexpanded[pos] {
		return
	}
	r.errs = append(r.errs, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// expansionFailed records why a value at pos could not be expanded, and
// silences later problems there.
func (r *Reporter) expansionFailed(pos Pos, err error) {
	r.Errorf(pos, "%v", err)
	if r.unexpanded == nil {
		r.unexpanded = map[Pos]bool{}
	}
	r.unexpanded[pos] = true
}

// Len reports how many problems were recorded.
func (r *Reporter) Len() int { return len(r.errs) }

// Err returns the recorded problems sorted by position, or nil when there are none.
func (r *Reporter) Err() error {
	if len(r.errs) == 0 {
		return nil
	}
	es := append(Errors(nil), r.errs...)
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i].Pos, es[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return es
}
