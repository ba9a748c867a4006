package config

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

// editDistance counts the insertions, deletions, substitutions and swaps of
// adjacent letters between a and b (optimal string alignment distance), so
// that "kye" is one edit from "key".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
