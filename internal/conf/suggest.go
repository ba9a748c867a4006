package conf

// Suggest returns the known name closest to name when it is close enough to
// be a typo (at most two edits, and fewer than half of name's letters), or "".
func Suggest(name string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(name, k); d < bestDist && 2*d < len([]rune(name)) {
			best, bestDist = k, d
		}
	}
	return best
}

// didYouMean is ` did you mean "x"?` for a close known name, else "".
func didYouMean(name string, known []string) string {
	if s := Suggest(name, known); s != "" {
		return ` did you mean "` + s + `"?`
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
