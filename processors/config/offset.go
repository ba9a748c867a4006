package config

import (
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// OffsetPos is the position in the file of the byte at offset off of the
// scalar's text (as Raw returns it), so that a problem found inside an
// expression points at the right line and column. It understands plain and
// quoted scalars on one line and literal (|) and folded (>) blocks; elsewhere
// it falls back to where the text starts.
func (n *Node) OffsetPos(off int) Pos {
	switch v := n.n.(type) {
	case *ast.LiteralNode:
		if p, ok := n.blockOffsetPos(v, off); ok {
			return p
		}
		return n.blockStart(v)
	case *ast.StringNode:
		if p, ok := n.flowOffsetPos(v, off); ok {
			return p
		}
	}
	return n.ExprPos().Shift(off)
}

// flowOffsetPos handles a plain or quoted scalar written over several lines,
// which YAML folds into one line: each line of the file is one segment of
// the text, one space apart.
func (n *Node) flowOffsetPos(v *ast.StringNode, off int) (Pos, bool) {
	tk := v.GetToken()
	if tk == nil || strings.Contains(v.Value, "\n") {
		return Pos{}, false
	}
	lines := strings.Split(strings.TrimSpace(tk.Origin), "\n")
	if len(lines) < 2 {
		return Pos{}, false
	}
	start := n.ExprPos()
	for k, l := range lines {
		text := strings.TrimSpace(l)
		col := start.Col
		if k > 0 {
			col = len(l) - len(strings.TrimLeft(l, " ")) + 1
		}
		if off <= len(text) {
			return Pos{File: n.file, Line: start.Line + k, Col: col + off}, true
		}
		off -= len(text) + 1
	}
	return Pos{}, false
}

// blockStart is the first line of a block scalar's content. goccy's token
// positions for block content are unreliable (column 0, or the last line),
// so lines and columns are counted from the header and the raw text.
func (n *Node) blockStart(v *ast.LiteralNode) Pos {
	p := tokenPos(n.file, v.Start)
	lines, blank, indent := blockLines(v)
	if p.Line == 0 || lines == nil {
		return p
	}
	return Pos{File: n.file, Line: p.Line + 1 + blank, Col: indent + 1}
}

// blockLines returns the content lines of a block scalar as written (without
// the leading blank lines, counted in blank) and their indentation.
func blockLines(v *ast.LiteralNode) (lines []string, blank, indent int) {
	if v.Value == nil || v.Value.GetToken() == nil {
		return nil, 0, 0
	}
	all := strings.Split(v.Value.GetToken().Origin, "\n")
	for len(all) > 0 && strings.TrimSpace(all[0]) == "" {
		all = all[1:]
		blank++
	}
	if len(all) == 0 {
		return nil, 0, 0
	}
	indent = len(all[0]) - len(strings.TrimLeft(all[0], " "))
	for _, l := range all {
		if strings.TrimSpace(l) == "" {
			break // a blank line or the indentation of the next key
		}
		lines = append(lines, l)
	}
	return lines, blank, indent
}

func (n *Node) blockOffsetPos(v *ast.LiteralNode, off int) (Pos, bool) {
	start := n.blockStart(v)
	lines, blank, indent := blockLines(v)
	if start.Line == 0 || lines == nil || v.Start == nil || off < blank {
		return Pos{}, false
	}
	off -= blank // each leading blank line is one "\n" of the text
	// A literal block keeps its line breaks; a folded one (without blank or
	// more-indented lines) joins its lines with one space. Either way each
	// line of the text is one line of the file, one separator apart.
	for k, l := range lines {
		if len(l) < indent {
			return Pos{}, false
		}
		seg := len(l) - indent
		if off <= seg {
			return Pos{File: n.file, Line: start.Line + k, Col: indent + 1 + off}, true
		}
		off -= seg + 1
	}
	return Pos{}, false
}
