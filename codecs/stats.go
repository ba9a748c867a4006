package codecs

import (
	"github.com/sluicehq/sluice/registry/regclient"
)

// Stats receives what an Avro codec counts (WithStats): its schema registry
// requests and its schema cache lookups. The calls come from the codec's
// hot path, from many goroutines at once: an implementation must be cheap
// and safe for concurrent use (atomic counters). The codec keeps no counts
// of its own.
type Stats interface {
	// RegistryRequest is called once per registry request the codec made
	// (a writer schema fetched by id, the reader schema registered or
	// looked up), with its result.
	RegistryRequest(result RegistryResult)
	// SchemaCacheLookup is called once per schema the codec needed: a
	// writer schema id to decode with, or the registered id to encode with.
	// hit is true when the codec's cache answered (a schema, or a poison
	// answer it remembers for the id) and false when it had to ask the
	// registry.
	SchemaCacheLookup(hit bool)
}

// RegistryResult is the result of one registry request.
type RegistryResult string

// Results of RegistryRequest.
const (
	RegistryOK RegistryResult = "ok"
	// RegistryNotFound: the registry answered that the schema, subject or
	// version does not exist (regclient.IsNotFound).
	RegistryNotFound RegistryResult = "not_found"
	// RegistryError is any other failure: unreachable, timeout, 5xx, a
	// refused schema.
	RegistryError RegistryResult = "error"
)

// WithStats makes the codec report its registry requests and cache
// lookups to s (nil reports nothing).
func WithStats(s Stats) AvroOption {
	return func(c *avroConfig) { c.stats = s }
}

// noStats is the Stats of a codec configured without one.
type noStats struct{}

func (noStats) RegistryRequest(RegistryResult) {}
func (noStats) SchemaCacheLookup(bool)         {}

// registryResult classifies the error of a registry request.
func registryResult(err error) RegistryResult {
	switch {
	case err == nil:
		return RegistryOK
	case regclient.IsNotFound(err):
		return RegistryNotFound
	}
	return RegistryError
}
