package schemas_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"

	"github.com/sluicehq/sluice/registry"
	"github.com/sluicehq/sluice/schemas"
)

func ExamplePush() {
	reg := httptest.NewServer(registry.NewServer(registry.NewMemoryStore()))
	defer reg.Close()
	text, _ := schemas.FS.ReadFile(schemas.UserStatsFile)
	entries := []schemas.Entry{{File: schemas.UserStatsFile, Subject: "user-stats-value", Schema: string(text)}}
	if err := schemas.Push(context.Background(), reg.URL, entries, os.Stdout); err != nil {
		fmt.Println(err)
	}
	ok, err := schemas.Check(context.Background(), reg.URL, entries, os.Stdout)
	fmt.Println(ok, err)
	// Output:
	// SUBJECT           VERSION  ID  FILE
	// user-stats-value  1        1   user_stats.avsc
	// user-stats-value  compatible  user_stats.avsc
	// true <nil>
}
