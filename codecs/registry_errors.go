package codecs

import "github.com/sluicehq/sluice/registry/regclient"

// registryError classifies the failure of a registry call.
//
// Poison: the registry answered that the schema (or its subject or version)
// does not exist, with its own error code (regclient.IsNotFound: 40401,
// 40402, 40403 in a registry JSON body). The message names an id nobody
// registered, and asking again will not change that.
//
// Unavailable: everything else, because it says nothing about the message and
// may heal: a bare 404 (a registry URL with a wrong path), an HTML page from
// a proxy, 401/403, 409/422, 5xx, a refused connection, a timeout, a
// cancelled context. The pipeline holds the partition and retries. err's text
// (a *regclient.Error or a wrapped transport error) names the registry URL,
// without credentials, and its answer, so the hold log says what is wrong.
func registryError(op string, id int, err error) error {
	if IsNotFound(err) {
		return poison(op, id, err)
	}
	return unavailable(op, id, err)
}

// IsNotFound reports whether err, from a Registry call, is the registry
// answering that a subject, version or schema does not exist. It is
// regclient.IsNotFound: a bare 404, 401/403, 5xx, a transport failure or a
// timeout is not "not found".
func IsNotFound(err error) bool { return regclient.IsNotFound(err) }
