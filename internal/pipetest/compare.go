package pipetest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// diffLines is a line diff of want and got: "- " lines only in want, "+ "
// lines only in got, "  " lines in both (the longest common subsequence).
func diffLines(want, got []string) string {
	n, m := len(want), len(got)
	// lcs[i][j] is the length of the longest common subsequence of
	// want[i:] and got[j:].
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if want[i] == got[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && want[i] == got[j]:
			b.WriteString("  " + want[i] + "\n")
			i, j = i+1, j+1
		case j == m || (i < n && lcs[i+1][j] >= lcs[i][j+1]):
			b.WriteString("- " + want[i] + "\n")
			i++
		default:
			b.WriteString("+ " + got[j] + "\n")
			j++
		}
	}
	return b.String()
}

// listProblem says where two lists part: at index at of want and got.
func listProblem(at, want, got int) string {
	if want != got {
		return fmt.Sprintf("want %s, got %d (first difference at record %d)", plural(want, "record"), got, at+1)
	}
	return fmt.Sprintf("record %d differs", at+1)
}

// plural is "1 test", "2 tests".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// compareLists returns the index of the first difference between want and
// got, and a diff: of that record when both have as many records, of the
// lists (one record a line) otherwise; an empty diff when they are equal.
func compareLists(want, got []any) (int, string) {
	at := 0
	for at < len(want) && at < len(got) && jsonText(want[at]) == jsonText(got[at]) {
		at++
	}
	switch {
	case at == len(want) && at == len(got):
		return 0, ""
	case len(want) == len(got):
		// The same number of records: show the first that differs field
		// by field.
		return at, diffLines(indented(want[at]), indented(got[at]))
	}
	return at, diffLines(jsonLines(want), jsonLines(got))
}

// diffJSON returns a diff of want and got as indented JSON, or "" when equal.
func diffJSON(want, got any) string {
	if jsonText(want) == jsonText(got) {
		return ""
	}
	return diffLines(indented(want), indented(got))
}

// jsonLines renders a list one item a line, so that a diff pairs records.
func jsonLines(items []any) []string {
	lines := make([]string, len(items))
	for i, it := range items {
		lines[i] = jsonText(it)
	}
	return lines
}

// normalise gives a value the form JSON decoding gives it (float64 numbers,
// map[string]any objects), so that 2 and 2.0 compare equal.
func normalise(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return out
}

// jsonText is v as compact JSON with sorted keys.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

func indented(v any) []string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return []string{fmt.Sprintf("%v", v)}
	}
	return strings.Split(string(b), "\n")
}
