package registry_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/sluicehq/sluice/registry"
)

// A registry on an in-memory store: register a schema, register it again
// (idempotent), and read the latest version back.
func Example() {
	srv := httptest.NewServer(registry.NewServer(registry.NewMemoryStore()))
	defer srv.Close()

	call := func(method, path, body string) string {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Status + " " + strings.TrimSpace(string(b))
	}
	fmt.Println(call("POST", "/subjects/greetings-value/versions", `{"schema":"\"string\""}`))
	fmt.Println(call("POST", "/subjects/greetings-value/versions", `{"schema":" \"string\" "}`))
	fmt.Println(call("GET", "/subjects/greetings-value/versions/latest", ""))
	fmt.Println(call("GET", "/config/greetings-value", ""))
	// Output:
	// 200 OK {"id":1}
	// 200 OK {"id":1}
	// 200 OK {"subject":"greetings-value","version":1,"id":1,"schema":"\"string\""}
	// 404 Not Found {"error_code":40408,"message":"Subject 'greetings-value' does not have subject-level compatibility configured"}
}

// ListenAndServe serves until its context is cancelled; ready reports the
// bound address, so port 0 works.
func ExampleListenAndServe() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- registry.ListenAndServe(ctx, "127.0.0.1:0", registry.NewServer(registry.NewMemoryStore()),
			func(a net.Addr) { addrs <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case err := <-done:
		fmt.Println("serving:", err)
		return
	}
	resp, err := http.Get("http://" + addr.String() + "/config")
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(string(b))
	cancel()
	fmt.Println("stopped:", <-done)
	// Output:
	// {"compatibilityLevel":"BACKWARD"}
	// stopped: <nil>
}
