package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/sluicehq/sluice/internal/testkit"
)

// validate refuses a pipelines file that used to crash it or exhaust its
// memory with a file:line:col error and exit 2; the files are generated.
func TestValidateBoundsInput(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(referencePipelines)
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := filepath.Abs("../../schemas")
	if err != nil {
		t.Fatal(err)
	}
	reference := strings.ReplaceAll(string(src), "schemas/", schemas+"/")
	const filter = `- filter: event_type != "heartbeat"`
	if !strings.Contains(reference, filter) {
		t.Fatalf("the reference pipelines file has no %q", filter)
	}
	// lineOf is the line of the first s in the reference file, so that the
	// expected positions follow edits elsewhere in it.
	lineOf := func(s string) string {
		return strconv.Itoa(1 + strings.Count(reference[:strings.Index(reference, s)], "\n"))
	}
	// colOf is the column of the first s in the reference file.
	colOf := func(s string) string {
		before := reference[:strings.Index(reference, s)]
		return strconv.Itoa(len(before) - strings.LastIndex(before, "\n"))
	}
	for _, c := range []struct {
		name, src, want string
	}{
		{"400 kB of nested lists", strings.Repeat("- ", 200_000) + "x\n",
			":1:400001: the document has more than 200000 YAML tokens"},
		{"filter of 500,000 nested parentheses", strings.Replace(reference, filter,
			"- filter: "+strings.Repeat("(", 500_000)+"true"+strings.Repeat(")", 500_000), 1),
			":" + lineOf(filter) + ":65553: the expression is longer than 64 KiB"},
		{"schema a device", strings.Replace(reference, schemas+"/user_event.avsc", "/dev/zero", 1),
			":" + lineOf(schemas+"/user_event.avsc") + ":" + colOf(schemas+"/user_event.avsc") + ": reading schema: /dev/zero: not a regular file (a character device)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".yaml")
			if err := os.WriteFile(file, []byte(c.src), 0o644); err != nil {
				t.Fatal(err)
			}
			r := runOffline(t, nil, "validate", "-f", file)
			if r.code != ExitUsage || !strings.HasPrefix(r.stderr, "sluice: "+file+c.want) {
				t.Errorf("exit %d, want %d with %q; stderr:\n%.500s", r.code, ExitUsage, file+c.want, r.stderr)
			}
		})
	}
}

// produce, consume and schemas refuse a schema file that is a device or a
// pipe, or too large, before they connect to anything.
func TestSchemaFilesBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.avsc")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big", "big.avsc")
	if err := os.Mkdir(filepath.Dir(big), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, []byte(`{"type": "string"}`+strings.Repeat(" ", 1<<20)), 0o644); err != nil {
		t.Fatal(err)
	}
	nowhere := []string{"--brokers", "127.0.0.1:1", "--registry", "http://127.0.0.1:1"}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"produce /dev/zero", append([]string{"produce", "--topic", "t", "--schema", "/dev/zero"}, nowhere...),
			"sluice: --schema: reading schema: /dev/zero: not a regular file (a character device)\n"},
		{"consume a pipe", append([]string{"consume", "--topic", "t", "--schema", fifo}, nowhere...),
			"sluice: --schema: reading schema: " + fifo + ": not a regular file (a named pipe)\n"},
		{"schemas push a pipe", []string{"schemas", "push", "--dir", dir, "--registry", "http://127.0.0.1:1"},
			"sluice: " + fifo + ": not a regular file (a named pipe)\n"},
		{"schemas check too large", []string{"schemas", "check", "--dir", filepath.Dir(big), "--registry", "http://127.0.0.1:1"},
			"sluice: " + big + ": file too large (more than 1 MiB)\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runOffline(t, nil, c.args...)
			if r.code != ExitUsage || r.stderr != c.want {
				t.Errorf("exit %d, want %d; stderr:\n%s\nwant:\n%s", r.code, ExitUsage, r.stderr, c.want)
			}
		})
	}
}

// produce rejects a JSON number outside its field's Avro type, naming the
// line and the field, instead of writing a rounded or wrapped value; the
// lines before it are produced, nothing after.
func TestProduceRejectsOutOfRangeNumbers(t *testing.T) {
	env := testkit.Env(t)
	schema := filepath.Join(t.TempDir(), "numbers.avsc")
	if err := os.WriteFile(schema, []byte(`{"type": "record", "name": "Numbers", "namespace": "t", "fields": [
		{"name": "l", "type": "long"}, {"name": "i", "type": "int"}, {"name": "f", "type": "float"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ line, want string }{
		{`{"l": -9223372036854775809, "i": 1, "f": 1}`, "line 2: coercing to t.Numbers: field l: -9223372036854775809 out of range for long"},
		{`{"l": 1, "i": 2147483648, "f": 1}`, "line 2: coercing to t.Numbers: field i: 2147483648 out of range for int"},
		{`{"l": 1, "i": 1, "f": 1e39}`, "line 2: coercing to t.Numbers: field f: 1e39 out of range for float"},
		{`{"l": 1.5, "i": 1, "f": 1}`, "line 2: coercing to t.Numbers: field l: 1.5 is not an integer"},
	} {
		topic := testkit.Unique("numbers")
		testkit.CreateTopic(t, env.Brokers(), topic, 1, nil)
		in := `{"l": -9223372036854775808, "i": -2147483648, "f": 3.4e38}` + "\n" + c.line + "\n" + `{"l": 3, "i": 3, "f": 3}` + "\n"
		res := runCLI(t, env, in, "produce", "--topic", topic, "--schema", schema)
		if res.code != ExitFailure || !strings.Contains(res.stderr, c.want+" (1 records produced before the error)") {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", c.line, res.code, res.stderr, c.want)
		}
		recs := consumeAll(t, env, topic, 1)
		jsonEqual(t, recs[0].Value, `{"l": -9223372036854775808, "i": -2147483648, "f": 3.4e38}`)
		if n := testkit.TopicSize(t, env.Brokers(), topic); n != 1 {
			t.Errorf("%s: topic holds %d records, want 1", c.line, n)
		}
	}
}
