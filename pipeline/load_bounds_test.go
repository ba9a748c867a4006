package pipeline_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/processors/config"
)

// boundsPipeline is a pipelines file whose input schema and filter the
// cases below replace.
const boundsPipeline = `version: 1
pipelines:
  - name: p
    input:
      topic: in
      schema: SCHEMA
    dead_letter: dlq
    outputs:
      out: {topic: out, codec: json}
    steps:
      - filter: FILTER
      - emit: out
`

// Load refuses what would read for ever or exhaust memory (a device, a pipe,
// a file past its bound, YAML or an expression past theirs) with a
// file:line:col error; the inputs are generated, not checked in.
func TestLoadBounds(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	schema, err := filepath.Abs("../schemas/user_event.avsc")
	if err != nil {
		t.Fatal(err)
	}
	pipelinesFile := func(schema, filter string) string {
		return strings.NewReplacer("SCHEMA", schema, "FILTER", filter).Replace(boundsPipeline)
	}
	big := write("big.avsc", `{"type": "string"}`+strings.Repeat(" ", 1<<20))
	fifo := filepath.Join(dir, "fifo.avsc")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	nested := func(n int) string { return strings.Repeat("(", n) + "amount > 0" + strings.Repeat(")", n) }

	for _, c := range []struct {
		name string
		path string // the pipelines file
		want string // the whole error; {dir} stands for dir
	}{
		{"accepted", write("ok.yaml", pipelinesFile(schema, "amount > 0")), ""},
		{"pipelines file too large", write("large.yaml", pipelinesFile(schema, "amount > 0")+"#"+strings.Repeat("x", 2<<20)),
			"{dir}/large.yaml:1:1: file too large (more than 2 MiB)"},
		{"pipelines file a device", "/dev/zero", "/dev/zero:1:1: not a regular file (a character device)"},
		{"400 kB of nested lists", write("nested.yaml", strings.Repeat("- ", 200_000)+"x\n"),
			"{dir}/nested.yaml:1:400001: the document has more than 200000 YAML tokens (words and punctuation) by here; a pipelines file needs about 200 a pipeline"},
		{"nested lists", write("deep.yaml", pipelinesFile(schema, "amount > 0")+"extra: "+strings.Repeat("[", 70)+strings.Repeat("]", 70)+"\n"),
			"{dir}/deep.yaml:13:71: lists and mappings nest more than 64 levels deep here"},
		{"filter of 500,000 nested parentheses", write("parens.yaml", pipelinesFile(schema, nested(500_000))),
			"{dir}/parens.yaml:11:65553: the expression is longer than 64 KiB"},
		{"filter of 101 nested parentheses", write("parens101.yaml", pipelinesFile(schema, nested(101))),
			"{dir}/parens101.yaml:11:117: brackets nest more than 100 levels deep here"},
		{"schema a device", write("zero.yaml", pipelinesFile("/dev/zero", "amount > 0")),
			"{dir}/zero.yaml:6:15: reading schema: /dev/zero: not a regular file (a character device)"},
		{"schema a pipe", write("fifo.yaml", pipelinesFile(fifo, "amount > 0")),
			"{dir}/fifo.yaml:6:15: reading schema: {dir}/fifo.avsc: not a regular file (a named pipe)"},
		{"schema too large", write("bigschema.yaml", pipelinesFile(big, "amount > 0")),
			"{dir}/bigschema.yaml:6:15: reading schema: {dir}/big.avsc: file too large (more than 1 MiB)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := pipeline.Load(c.path)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ce config.Errors
			var one *config.Error
			if !errors.As(err, &ce) && !errors.As(err, &one) {
				t.Fatalf("Load returned %T, want config.Errors or *config.Error: %.300v", err, err)
			}
			if want := strings.ReplaceAll(c.want, "{dir}", dir); err.Error() != want {
				t.Errorf("error %.300s\nwant  %s", err, want)
			}
		})
	}
}

// Parse, which takes the document instead of its path, has the same bound.
func TestParseBoundsSize(t *testing.T) {
	_, err := pipeline.Parse("p.yaml", []byte("#"+strings.Repeat("x", pipeline.MaxConfigBytes)))
	if want := "p.yaml:1:1: file too large (more than 2 MiB)"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}
