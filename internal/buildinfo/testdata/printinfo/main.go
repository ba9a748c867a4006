// Command printinfo prints buildinfo.Get() as JSON, for the -ldflags test.
package main

import (
	"encoding/json"
	"os"

	"github.com/sluicehq/sluice/internal/buildinfo"
)

func main() {
	_ = json.NewEncoder(os.Stdout).Encode(buildinfo.Get())
}
