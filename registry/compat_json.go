package registry

import "github.com/sluicehq/sluice/internal/schemafmt"

// jsonReaderErrors returns why data written with writer cannot be read with reader.
func jsonReaderErrors(reader, writer *schemafmt.JSONSchema) []string {
	return nil
}
