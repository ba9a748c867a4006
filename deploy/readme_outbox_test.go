package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var sqlBlock = regexp.MustCompile("(?s)```sql\n(.*?)```")

// TestReadmeOutboxMatchesTheExample: the README's Outbox section prints
// examples/outbox/order.go (compiled by go build ./...) and the outbox
// table of examples/outbox/schema.sql exactly as they are.
func TestReadmeOutboxMatchesTheExample(t *testing.T) {
	sec := readmeSection(t, "Outbox: publishing from PostgreSQL")
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "examples", "outbox", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	code := goBlock.FindStringSubmatch(sec)
	if code == nil || code[1] != read("order.go") {
		t.Errorf("the README's Go block differs from examples/outbox/order.go")
	}
	ddl := sqlBlock.FindStringSubmatch(sec)
	if ddl == nil || !strings.HasPrefix(read("schema.sql"), ddl[1]) {
		t.Errorf("the README's SQL block is not the start of examples/outbox/schema.sql")
	}
}
