package config_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/processors/config"
)

func parse(src string) error {
	_, err := config.ParseFile("f.yaml", []byte(src), func(string) string { return "" }, &config.Reporter{})
	return err
}

// nestedMappings returns n mappings, each the only value of the one before.
func nestedMappings(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%sk:\n", strings.Repeat("  ", i))
	}
	return b.String() + strings.Repeat("  ", n) + "x\n"
}

// keys returns a mapping of n keys written at indent.
func keys(n int, indent string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%sk%d: v\n", indent, i)
	}
	return b.String()
}

// A document past one of Parse's bounds is refused, before the YAML library
// parses it, with the position where it passed the bound; one at the bound
// is accepted. The inputs are generated: the largest is under 1 MB.
func TestParseBounds(t *testing.T) {
	const (
		deep     = "lists and mappings nest more than 64 levels deep here"
		tooLarge = "the document has more than 200000 YAML tokens (words and punctuation) by here; a pipelines file needs about 200 a pipeline"
		paths    = "the paths of the entries ($.pipelines[0].steps[2].filter) add up to more than 16 MiB by here: keys this long cannot nest this deeply"
	)
	for _, c := range []struct {
		name, src string
		want      string // the whole error; empty: accepted
	}{
		{"flow lists 64 deep", strings.Repeat("[", 64) + strings.Repeat("]", 64), ""},
		{"flow lists 65 deep", strings.Repeat("[", 65) + strings.Repeat("]", 65), "f.yaml:1:65: " + deep},
		{"flow mappings 65 deep", "a: " + strings.Repeat("{a: ", 64) + "1" + strings.Repeat("}", 64), "f.yaml:1:256: " + deep},
		{"block lists 64 deep", strings.Repeat("- ", 64) + "x", ""},
		{"block lists 65 deep", strings.Repeat("- ", 65) + "x", "f.yaml:1:129: " + deep},
		{"block mappings 64 deep", nestedMappings(64), ""},
		{"block mappings 65 deep", nestedMappings(65), "f.yaml:65:129: " + deep},
		{"lists at their keys' columns", "a:\n- b:\n  - c:\n    - d:\n      - x\n", ""},
		{"lists at their keys' columns 64 deep", keyLists(32), ""},
		{"lists at their keys' columns 65 deep", keyLists(33), "f.yaml:33:65: " + deep},
		{"a 400 kB file of nested lists", strings.Repeat("- ", 200_000) + "x", "f.yaml:1:400001: " + tooLarge},
		{"a 400 kB file of nested flow lists", strings.Repeat("[", 200_000) + strings.Repeat("]", 200_000), "f.yaml:1:100000: " + tooLarge},
		{"1000 keys", keys(1000, ""), ""},
		{"1001 keys", keys(1001, ""), "f.yaml:1001:1: this mapping has more than 1000 keys"},
		{"1001 keys under a key", "top:\n" + keys(1001, "  "), "f.yaml:1002:3: this mapping has more than 1000 keys"},
		{"1001 items", strings.Repeat("- x\n", 1001), "f.yaml:1001:1: this list has more than 1000 items"},
		{"1001 items at the key's column", "k:\n" + strings.Repeat("- x\n", 1001), "f.yaml:1002:1: this list has more than 1000 items"},
		{"1001 flow items", "[" + strings.Repeat("1,", 1000) + "1]", "f.yaml:1:2001: this list has more than 1000 items"},
		{"1000 empty values", "a:\n" + strings.Repeat("- \n", 999) + "b:\n", ""},
		{"1001 empty list items", "a:\n" + strings.Repeat("-\n", 600) + "b:\n" + strings.Repeat("-\n", 600), "f.yaml:1003:1: more than 1000 values are left empty by here"},
		{"1001 empty mapping values", "a:\n" + emptyKeys(600) + "b:\n" + emptyKeys(600), "f.yaml:1003:3: more than 1000 values are left empty by here"},
		{"1001 keys without values in flow", "a: [" + strings.Repeat("{k}, ", 600) + "]\nb: [" + strings.Repeat("{k}, ", 600) + "]", "f.yaml:2:2007: more than 1000 values are left empty by here"},
		{"long keys nested", strings.Repeat("k", 100_000) + ":\n" + keys(200, "  "), "f.yaml:168:3: " + paths},
		{"a long key", keys(10, "") + strings.Repeat("k", 1_000_000) + ": v\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := parse(c.src)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want == "":
			case err == nil:
				t.Fatalf("accepted, want %q", c.want)
			case err.Error() != c.want:
				t.Fatalf("error %q\nwant  %q", err, c.want)
			}
		})
	}
}

// emptyKeys returns n keys without values, indented by two.
func emptyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  k%d:\n", i)
	}
	return b.String()
}

// keyLists returns n keys, each holding a list written at its column whose
// item is the next key; the last holds a list of x: 2n levels.
func keyLists(n int) string {
	var b strings.Builder
	b.WriteString("k:\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "%s- k:\n", strings.Repeat("  ", i-1))
	}
	fmt.Fprintf(&b, "%s- x\n", strings.Repeat("  ", n-1))
	return b.String()
}
