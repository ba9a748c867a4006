package processors

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/bounded"
)

// Bounds of an expression, checked on its text before expr parses it: expr's
// parser recurses on every bracket, and a filter of 500,000 nested
// parentheses overflowed the stack. A real expression is a few lines.
const (
	MaxExprBytes = 64 << 10
	MaxExprDepth = 100
)

// maxShownExpr bounds the text of an expression quoted in an error.
const maxShownExpr = 200

// shownExpr quotes src for an error, cut to maxShownExpr bytes.
func shownExpr(src string) string {
	if len(src) <= maxShownExpr {
		return strconv.Quote(src)
	}
	cut := bounded.Text(src, maxShownExpr)
	return strconv.Quote(strings.TrimSuffix(cut, "…")) + "…"
}

// checkExprBounds returns the byte offset in src where it passes
// MaxExprBytes or MaxExprDepth and says which, or ok. Brackets count
// outside string literals and comments, as expr's lexer reads them.
func checkExprBounds(src string) (offset int, msg string, ok bool) {
	if len(src) > MaxExprBytes {
		return MaxExprBytes, fmt.Sprintf("the expression is longer than %s", bounded.Size(MaxExprBytes)), false
	}
	depth := 0
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"', '\'', '`':
			i = skipString(src, i)
		case '/':
			i = skipComment(src, i)
		case '(', '[', '{':
			if depth++; depth > MaxExprDepth {
				return i, fmt.Sprintf("brackets nest more than %d levels deep here", MaxExprDepth), false
			}
		case ')', ']', '}':
			depth--
		}
	}
	return 0, "", true
}

// skipString returns the index of the quote that closes the string literal
// opening at i (or the end of src); backslash escapes all but a raw `string`.
func skipString(src string, i int) int {
	quote := src[i]
	for i++; i < len(src); i++ {
		switch {
		case src[i] == '\\' && quote != '`':
			i++
		case src[i] == quote:
			return i
		}
	}
	return len(src)
}

// skipComment returns the index of the end of the // or /* */ comment at i,
// or i when the slash is a division.
func skipComment(src string, i int) int {
	if i+1 >= len(src) {
		return i
	}
	switch src[i+1] {
	case '/':
		for i += 2; i < len(src) && src[i] != '\n'; i++ {
		}
		return i
	case '*':
		for i += 2; i+1 < len(src); i++ {
			if src[i] == '*' && src[i+1] == '/' {
				return i + 1
			}
		}
		return len(src)
	}
	return i
}
