package regclient_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/sluicehq/sluice/registry"
	"github.com/sluicehq/sluice/registry/regclient"
)

func ExampleClient() {
	srv := httptest.NewServer(registry.NewServer(registry.NewMemoryStore()))
	defer srv.Close()
	c, err := regclient.New(regclient.Config{URL: srv.URL})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	id, err := c.Register(ctx, "pings-value", `"string"`)
	fmt.Println(id, err)
	_, err = c.SchemaByID(ctx, 99)
	fmt.Println(regclient.IsNotFound(err))
	// Output:
	// 1 <nil>
	// true
}
