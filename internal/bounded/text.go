package bounded

import "unicode/utf8"

// Text cuts s to at most n bytes, at a rune boundary, and marks a cut with
// "…", so that an error or a log line never echoes megabytes of input.
func Text(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
