package registry_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/registry"
)

func TestListenAndServeAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	called := false
	err = registry.ListenAndServe(context.Background(), ln.Addr().String(), registry.NewServer(registry.NewMemoryStore()),
		func(net.Addr) { called = true })
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) || called {
		t.Fatalf("err %v, ready called %v; want a listen error naming the address and no ready call", err, called)
	}
}
