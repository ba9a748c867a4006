package config

import "strings"

// SplitList splits a comma-separated list (of brokers, say), trimming blanks
// and dropping empty items.
func SplitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
