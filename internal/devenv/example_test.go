package devenv_test

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/sluicehq/sluice/internal/devenv"
)

// Start the embedded broker and registry on random loopback ports.
func ExampleStart() {
	env, err := devenv.Start(context.Background(), devenv.Config{
		KafkaAddr:    "127.0.0.1:0",
		RegistryAddr: "127.0.0.1:0",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer env.Close()

	resp, err := http.Get(env.RegistryURL() + "/subjects")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(len(env.Brokers()), resp.StatusCode, string(body))
	// Output: 1 200 []
}
