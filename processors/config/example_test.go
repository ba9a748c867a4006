package config_test

import (
	"fmt"

	"github.com/sluicehq/sluice/processors/config"
)

// A step's configuration is read field by field; every problem is recorded
// with its position, and Done reports the keys nobody read.
func ExampleParse() {
	node, err := config.Parse("gold: 200\nsilver: 50.5\nratio: x\nextra: 1")
	if err != nil {
		fmt.Println(err)
		return
	}
	m := node.Map()
	fmt.Println(m.FloatOr("gold", 500), m.FloatOr("silver", 100), m.FloatOr("bronze", 10))
	m.Get("ratio").Float()
	m.Done()
	fmt.Println(node.Reporter().Err())
	// Output:
	// 200 50.5 10
	// config.yaml:3:8: expected a number, got "x"
	// config.yaml:4:1: unknown field "extra"; known fields: bronze, gold, ratio, silver
}
