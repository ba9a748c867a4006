package config

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
)

// Node is one YAML value with its position. Getters record problems on the
// Reporter and return zero values, so a caller can read a whole document and
// collect every problem in one pass.
type Node struct {
	n      ast.Node
	file   string
	rep    *Reporter
	getenv func(string) string
}

// Parse parses text, a YAML document named "config.yaml" in messages, with
// ${VAR} expanded from the process's environment, and returns its root node
// on a Reporter of its own (Node.Reporter). It is how a test builds the
// configuration of a step: the problems the step's factory records are then
// in node.Reporter().Err().
func Parse(text string) (*Node, error) {
	return ParseFile("config.yaml", []byte(text), os.Getenv, &Reporter{})
}

// ParseFile parses src (named file in messages) and returns its root node,
// recording the problems its getters find on rep. A YAML syntax error, and a
// document past MaxTokens, MaxDepth or MaxEntries, are returned as *Error
// with their position.
func ParseFile(file string, src []byte, getenv func(string) string, rep *Reporter) (*Node, error) {
	if err := checkTokens(file, src); err != nil {
		return nil, err
	}
	tokens := lexer.Tokenize(string(src))
	if err := checkShape(file, tokens); err != nil {
		return nil, err
	}
	f, err := parser.Parse(tokens, 0)
	if err != nil {
		return nil, syntaxError(file, err)
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return nil, &Error{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: "the file is empty"}
	}
	if len(f.Docs) > 1 {
		tk := f.Docs[1].GetToken()
		return nil, &Error{Pos: tokenPos(file, tk), Msg: "only one YAML document is allowed"}
	}
	return &Node{n: f.Docs[0].Body, file: file, rep: rep, getenv: getenv}, nil
}

func syntaxError(file string, err error) error {
	if te, ok := err.(interface {
		GetToken() *tokenT
		GetMessage() string
	}); ok {
		return &Error{Pos: tokenPos(file, te.GetToken()), Msg: "YAML syntax: " + te.GetMessage()}
	}
	return &Error{Pos: Pos{File: file}, Msg: "YAML syntax: " + err.Error()}
}

// Pos is where the node starts. A block mapping starts at its first key:
// goccy's token for it is the first ':', which points past the key.
func (n *Node) Pos() Pos {
	if m, ok := n.n.(*ast.MappingNode); ok && !m.IsFlowStyle && len(m.Values) > 0 && m.Values[0].Key != nil {
		return tokenPos(n.file, m.Values[0].Key.GetToken())
	}
	return tokenPos(n.file, n.n.GetToken())
}

// Errorf records a problem at this node.
func (n *Node) Errorf(format string, args ...any) {
	n.rep.Errorf(n.Pos(), format, args...)
}

// Reporter returns the reporter problems are recorded on.
func (n *Node) Reporter() *Reporter { return n.rep }

func (n *Node) child(c ast.Node) *Node {
	return &Node{n: unwrap(c), file: n.file, rep: n.rep, getenv: n.getenv}
}

func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		case *ast.AliasNode:
			return n
		default:
			return n
		}
	}
}

// IsNull reports whether the node is an explicit null (`~`, `null` or nothing).
func (n *Node) IsNull() bool {
	_, ok := n.n.(*ast.NullNode)
	return ok
}

// Map returns the node as a mapping, or records a problem and returns nil.
func (n *Node) Map() *Map {
	m, ok := n.n.(*ast.MappingNode)
	if !ok {
		n.Errorf("expected a mapping of keys to values, got %s", n.describe())
		return nil
	}
	out := &Map{node: n, used: map[string]bool{}}
	for _, mv := range m.Values {
		key := n.child(mv.Key)
		name, ok := key.scalarText()
		if !ok {
			key.Errorf("a key must be a plain string")
			continue
		}
		if _, dup := out.index(name); dup {
			key.Errorf("duplicate key %q", name)
			continue
		}
		out.entries = append(out.entries, Entry{Key: name, KeyNode: key, Value: n.child(mv.Value)})
	}
	return out
}

// List returns the items of a sequence, or records a problem and returns nil.
func (n *Node) List() []*Node {
	s, ok := n.n.(*ast.SequenceNode)
	if !ok {
		n.Errorf("expected a list, got %s", n.describe())
		return nil
	}
	items := make([]*Node, len(s.Values))
	for i, v := range s.Values {
		items[i] = n.child(v)
	}
	return items
}

// IsMap and IsList report the node's kind without recording problems.
func (n *Node) IsMap() bool  { _, ok := n.n.(*ast.MappingNode); return ok }
func (n *Node) IsList() bool { _, ok := n.n.(*ast.SequenceNode); return ok }

// String returns a scalar's text with ${VAR} expanded.
func (n *Node) String() string {
	s, ok := n.scalarText()
	if !ok {
		n.Errorf("expected a string, got %s", n.describe())
		return ""
	}
	return n.expand(s)
}

// Raw returns a scalar's text without expansion (used for expressions, which
// are code and may contain "$").
func (n *Node) Raw() string {
	s, ok := n.scalarText()
	if !ok {
		n.Errorf("expected a string, got %s", n.describe())
		return ""
	}
	return s
}

// Int returns an integer scalar (or a string that expands to one).
func (n *Node) Int() int {
	switch v := n.n.(type) {
	case *ast.IntegerNode:
		switch i := v.Value.(type) {
		case int64:
			if i >= math.MinInt32 && i <= math.MaxInt32 {
				return int(i)
			}
		case uint64:
			if i <= math.MaxInt32 {
				return int(i)
			}
		}
		n.Errorf("integer %v is out of range", v.Value)
		return 0
	case *ast.StringNode:
		s := n.expand(v.Value)
		i, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			n.Errorf("expected an integer, got %q", s)
		}
		return i
	}
	n.Errorf("expected an integer, got %s", n.describe())
	return 0
}

// Float returns a number (an integer or a float, or a string that expands
// to one).
func (n *Node) Float() float64 {
	switch v := n.n.(type) {
	case *ast.IntegerNode:
		switch i := v.Value.(type) {
		case int64:
			return float64(i)
		case uint64:
			return float64(i)
		}
	case *ast.FloatNode:
		return v.Value
	case *ast.StringNode:
		s := n.expand(v.Value)
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			n.Errorf("expected a number, got %q", s)
			return 0
		}
		return f
	}
	n.Errorf("expected a number, got %s", n.describe())
	return 0
}

// Bool returns a boolean scalar.
func (n *Node) Bool() bool {
	switch v := n.n.(type) {
	case *ast.BoolNode:
		return v.Value
	case *ast.StringNode:
		s := n.expand(v.Value)
		b, err := strconv.ParseBool(s)
		if err != nil {
			n.Errorf("expected true or false, got %q", s)
		}
		return b
	}
	n.Errorf("expected true or false, got %s", n.describe())
	return false
}

// Duration returns a Go duration such as "250ms" or "5s".
func (n *Node) Duration() time.Duration {
	s, ok := n.scalarText()
	if !ok {
		n.Errorf("expected a duration such as 500ms or 10s, got %s", n.describe())
		return 0
	}
	s = n.expand(s)
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		n.Errorf("expected a duration such as 500ms or 10s, got %q", s)
		return 0
	}
	return d
}

// Value returns a scalar as a Go value (string, int64, float64, bool or nil),
// strings expanded. Mappings and lists record a problem.
func (n *Node) Value() any {
	switch v := n.n.(type) {
	case *ast.NullNode:
		return nil
	case *ast.BoolNode:
		return v.Value
	case *ast.IntegerNode:
		switch i := v.Value.(type) {
		case int64:
			return i
		case uint64:
			if i <= math.MaxInt64 {
				return int64(i)
			}
		}
		n.Errorf("integer %v is out of range", v.Value)
		return nil
	case *ast.FloatNode:
		return v.Value
	case *ast.StringNode, *ast.LiteralNode:
		s, _ := n.scalarText()
		return n.expand(s)
	}
	n.Errorf("expected a plain value, got %s", n.describe())
	return nil
}

func (n *Node) expand(s string) string {
	out, err := Expand(s, n.getenv)
	if err != nil {
		n.rep.expansionFailed(n.Pos(), err)
		return ""
	}
	return out
}

func (n *Node) scalarText() (string, bool) {
	switch v := n.n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return v.GetToken().Value, true
	}
	return "", false
}

// ExprPos is the position of the first character of a scalar's text, past
// any opening quote, so that a column inside an expression can be added to it.
func (n *Node) ExprPos() Pos {
	p := n.Pos()
	if s, ok := n.n.(*ast.StringNode); ok && s.Token != nil {
		if tk := s.Token; tk.Type == tokenDoubleQuote || tk.Type == tokenSingleQuote {
			p.Col++
		}
	}
	if l, ok := n.n.(*ast.LiteralNode); ok && l.Value != nil {
		p = tokenPos(n.file, l.Value.GetToken())
	}
	return p
}

func (n *Node) describe() string {
	switch v := n.n.(type) {
	case *ast.MappingNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.NullNode:
		return "nothing"
	case *ast.AliasNode:
		return "an alias (aliases are not supported)"
	case *ast.BoolNode:
		return fmt.Sprintf("boolean %v", v.Value)
	case *ast.IntegerNode, *ast.FloatNode:
		return "number " + v.GetToken().Value
	case *ast.StringNode:
		return fmt.Sprintf("string %q", v.Value)
	}
	return "a " + n.n.Type().String()
}

// Entry is one key of a mapping, in file order.
type Entry struct {
	Key     string
	KeyNode *Node
	Value   *Node
}

// Map is a mapping being read. Fields read through Get/Need are marked used;
// Done reports the keys nobody asked for.
type Map struct {
	node    *Node
	entries []Entry
	used    map[string]bool
}

// Node is the mapping's own node.
func (m *Map) Node() *Node { return m.node }

func (m *Map) index(name string) (int, bool) {
	for i, e := range m.entries {
		if e.Key == name {
			return i, true
		}
	}
	return 0, false
}

// Get returns the value under key, or nil when the key is absent.
func (m *Map) Get(key string) *Node {
	m.used[key] = true
	if i, ok := m.index(key); ok {
		return m.entries[i].Value
	}
	return nil
}

// Need returns the value under key, or records "missing required field" and returns nil.
func (m *Map) Need(key string) *Node {
	v := m.Get(key)
	if v == nil {
		m.node.Errorf("missing required field %q", key)
	}
	return v
}

// Has reports whether key is present, without marking it used.
func (m *Map) Has(key string) bool {
	_, ok := m.index(key)
	return ok
}

// Entries returns every key in file order and marks them all used.
func (m *Map) Entries() []Entry {
	for _, e := range m.entries {
		m.used[e.Key] = true
	}
	return m.entries
}

// Done records a problem for each key that was never read.
func (m *Map) Done() {
	var known []string
	for k := range m.used {
		known = append(known, k)
	}
	sort.Strings(known)
	for _, e := range m.entries {
		if !m.used[e.Key] {
			e.KeyNode.Errorf("unknown field %q;%s known fields: %s", e.Key, didYouMean(e.Key, known), strings.Join(known, ", "))
		}
	}
}

// Helpers for optional fields.

// StringOr returns the string under key, or def when absent.
func (m *Map) StringOr(key, def string) string {
	if v := m.Get(key); v != nil {
		return v.String()
	}
	return def
}

// IntOr returns the integer under key, or def when absent.
func (m *Map) IntOr(key string, def int) int {
	if v := m.Get(key); v != nil {
		return v.Int()
	}
	return def
}

// FloatOr returns the number under key, or def when absent.
func (m *Map) FloatOr(key string, def float64) float64 {
	if v := m.Get(key); v != nil {
		return v.Float()
	}
	return def
}

// DurationOr returns the duration under key, or def when absent.
func (m *Map) DurationOr(key string, def time.Duration) time.Duration {
	if v := m.Get(key); v != nil {
		return v.Duration()
	}
	return def
}

// BoolOr returns the boolean under key, or def when absent.
func (m *Map) BoolOr(key string, def bool) bool {
	if v := m.Get(key); v != nil {
		return v.Bool()
	}
	return def
}
