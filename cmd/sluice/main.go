// Command sluice runs stream-processing pipelines on Apache Kafka declared in YAML.
package main

import (
	"os"

	"github.com/sluicehq/sluice"
)

func main() {
	os.Exit(sluice.Main())
}
