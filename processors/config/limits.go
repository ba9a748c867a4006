package config

import (
	"fmt"
	"strconv"

	"github.com/goccy/go-yaml/token"
)

// Bounds of a document ParseFile accepts. The YAML library's time and memory grow
// fast with what these bound: its lexer keeps some 250 bytes a token; its
// parser's cost grows with the square of the nesting depth, of the keys of a
// mapping and of the values left out, and it keeps every node's path
// ($.pipelines[0].steps[2].filter) as a string of its own (a 400 kB file of
// nested lists took gigabytes). So they are checked before it parses: the
// token count on the text, the rest on the tokens. The errors say where a
// bound is passed.
const (
	// MaxTokens bounds the words and punctuation of a document: a pipelines
	// file needs some 200 a pipeline.
	MaxTokens = 200_000
	// MaxDepth bounds how deeply lists and mappings nest: a pipelines file
	// needs about ten levels.
	MaxDepth = 64
	// MaxEntries bounds the items of one list and the keys of one mapping.
	MaxEntries = 1_000
	// MaxEmpty bounds the values left out ("key:" or "-" with nothing after).
	MaxEmpty = 1_000
	// MaxPathBytes bounds the sum of the lengths of every entry's path: long
	// keys that nest deeply. A pipelines file needs some 5 kB a pipeline.
	MaxPathBytes = 16 << 20
)

// checkTokens counts the words of src and counts its flow punctuation and
// colons twice, which is at least its number of YAML tokens, and returns an
// error where the count passes MaxTokens.
func checkTokens(file string, src []byte) error {
	n, line, col := 0, 1, 0
	inWord := false
	for _, c := range src {
		if c&0xC0 != 0x80 { // not inside a UTF-8 sequence: a new column
			col++
		}
		switch c {
		case '\n':
			line, col = line+1, 0
			inWord = false
			continue
		case ' ', '\t', '\r':
			inWord = false
			continue
		case '[', ']', '{', '}', ',', ':':
			n += 2
		}
		if !inWord {
			inWord = true
			n++
		}
		if n > MaxTokens {
			return &Error{Pos: Pos{File: file, Line: line, Col: col},
				Msg: fmt.Sprintf("the document has more than %d YAML tokens (words and punctuation) by here; a pipelines file needs about 200 a pipeline", MaxTokens)}
		}
	}
	return nil
}

// checkShape returns an error at the first token that passes MaxDepth,
// MaxEntries, MaxEmpty or MaxPathBytes.
//
// Flow collections ([ ] and { }) count their brackets and commas. Block
// collections follow indentation: a list item (-) or a mapping key at a
// column right of the open ones opens a level, one at the column of an open
// level is its next entry, and one left of it closes the levels right of it.
// A list written at its key's column is one level deeper than that mapping.
func checkShape(file string, tokens token.Tokens) error {
	var s shape
	for _, tk := range tokens {
		if tk.Position == nil {
			continue
		}
		at, ok := s.add(tk)
		if !ok {
			continue
		}
		if msg := s.problem(); msg != "" {
			return &Error{Pos: tokenPos(file, at), Msg: msg}
		}
	}
	return nil
}

// level is an open list or mapping.
type level struct {
	col     int  // column of a block collection's entries; 0 for a flow one
	seq     bool // a list, not a mapping
	entries int
	prefix  int // path length of the node that holds the collection
	path    int // path length of its current entry
}

// shape is what checkShape knows at a token.
type shape struct {
	open  []level
	flow  int // open flow collections, always the innermost levels
	empty int // values left out
	paths int // sum of the entries' path lengths
}

// add takes in one token; ok is false when it changes nothing checkShape
// checks, and at is where a problem it causes is reported.
func (s *shape) add(tk *token.Token) (at *token.Token, ok bool) {
	switch tk.Type {
	case token.SequenceStartType, token.MappingStartType:
		s.push(level{seq: tk.Type == token.SequenceStartType})
		s.flow++
	case token.SequenceEndType, token.MappingEndType, token.CollectEntryType:
		if s.flow == 0 {
			return nil, false
		}
		top := &s.open[len(s.open)-1]
		if emptyFlowValue(tk, !top.seq) {
			s.empty++
		}
		if tk.Type == token.CollectEntryType {
			s.entry(top, "")
		} else {
			s.open = s.open[:len(s.open)-1]
			s.flow--
		}
	case token.MappingValueType, token.SequenceEntryType:
		seq, col, key := tk.Type == token.SequenceEntryType, tk.Position.Column, ""
		if !seq {
			if tk.Prev == nil || tk.Prev.Position == nil {
				return nil, false
			}
			col, key = tk.Prev.Position.Column, tk.Prev.Value
		}
		if s.flow > 0 {
			if !seq { // a key in a flow mapping: its entry was counted at { or ,
				top := &s.open[len(s.open)-1]
				top.path += len(key)
				s.paths += len(key)
				return tk.Prev, true
			}
			return nil, false
		}
		if emptyBlockValue(tk, col) {
			s.empty++
		}
		s.block(seq, col, key)
		if !seq {
			return tk.Prev, true
		}
	default:
		return nil, false
	}
	return tk, true
}

// block places a block list item or mapping key at col.
func (s *shape) block(seq bool, col int, key string) {
	for len(s.open) > 0 && s.open[len(s.open)-1].col > col {
		s.open = s.open[:len(s.open)-1]
	}
	// A list at its key's column ends where the mapping's next key is.
	if n := len(s.open); !seq && n > 1 && s.open[n-1].seq && s.open[n-1].col == col && !s.open[n-2].seq && s.open[n-2].col == col {
		s.open = s.open[:n-1]
	}
	if n := len(s.open); n > 0 && s.open[n-1].col == col && s.open[n-1].seq == seq {
		s.entry(&s.open[n-1], key)
		return
	}
	s.push(level{col: col, seq: seq})
	s.open[len(s.open)-1].path += len(key)
	s.paths += len(key)
}

// push opens a collection inside the current entry, with its first entry.
func (s *shape) push(l level) {
	l.prefix = len("$")
	if n := len(s.open); n > 0 {
		l.prefix = s.open[n-1].path
	}
	s.open = append(s.open, l)
	s.entry(&s.open[len(s.open)-1], "")
}

// entry counts the next entry of l: [i] of a list, .key of a mapping.
func (s *shape) entry(l *level, key string) {
	l.entries++
	if l.seq {
		l.path = l.prefix + len("[]") + len(strconv.Itoa(l.entries-1))
	} else {
		l.path = l.prefix + len(".") + len(key)
	}
	s.paths += l.path
}

// problem says which bound the document passed, if any.
func (s *shape) problem() string {
	switch {
	case len(s.open) > MaxDepth:
		return fmt.Sprintf("lists and mappings nest more than %d levels deep here", MaxDepth)
	case len(s.open) > 0 && s.open[len(s.open)-1].entries > MaxEntries:
		if s.open[len(s.open)-1].seq {
			return fmt.Sprintf("this list has more than %d items", MaxEntries)
		}
		return fmt.Sprintf("this mapping has more than %d keys", MaxEntries)
	case s.empty > MaxEmpty:
		return fmt.Sprintf("more than %d values are left empty by here", MaxEmpty)
	case s.paths > MaxPathBytes:
		return fmt.Sprintf("the paths of the entries ($.pipelines[0].steps[2].filter) add up to more than %d MiB by here: keys this long cannot nest this deeply", MaxPathBytes>>20)
	}
	return ""
}

// emptyBlockValue reports whether the list item or mapping value tk, whose
// entry is at col, is left out: nothing follows on its line, and the next
// token is left of it, or at its column (but for a list at its key's column).
func emptyBlockValue(tk *token.Token, col int) bool {
	next := nextToken(tk)
	switch {
	case next == nil:
		return true
	case next.Position.Line == tk.Position.Line || next.Position.Column > col:
		return false
	case next.Position.Column < col:
		return true
	}
	return tk.Type == token.SequenceEntryType || next.Type != token.SequenceEntryType
}

// emptyFlowValue reports whether the comma or closing bracket end follows a
// value left out: "a:" with nothing after it, or, in a flow mapping (inMap),
// a key without a colon ({a, b}).
func emptyFlowValue(end *token.Token, inMap bool) bool {
	prev := prevToken(end)
	if prev == nil {
		return false
	}
	if prev.Type == token.MappingValueType {
		return true
	}
	if !inMap || isIndicator(prev) {
		return false
	}
	before := prevToken(prev)
	return before != nil && (before.Type == token.MappingStartType || before.Type == token.CollectEntryType)
}

func isIndicator(tk *token.Token) bool {
	switch tk.Type {
	case token.SequenceStartType, token.SequenceEndType, token.MappingStartType, token.MappingEndType,
		token.CollectEntryType, token.MappingValueType, token.SequenceEntryType:
		return true
	}
	return false
}

// nextToken and prevToken skip comments.
func nextToken(tk *token.Token) *token.Token {
	for tk = tk.Next; tk != nil && (tk.Type == token.CommentType || tk.Position == nil); tk = tk.Next {
	}
	return tk
}

func prevToken(tk *token.Token) *token.Token {
	for tk = tk.Prev; tk != nil && (tk.Type == token.CommentType || tk.Position == nil); tk = tk.Prev {
	}
	return tk
}
