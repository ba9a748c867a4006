// Package redact removes secrets from text that reaches errors and log lines.
//
// It imports only the standard library, so that any package can use it.
// The rules are checked by TestImportRules (arch_test.go).
package redact

import (
	"net/url"
	"strings"
)

// URL returns raw without its userinfo (the "user:password@" of
// http://user:password@host:8081), so that the URL can be shown in an error or
// a log line. A URL without userinfo comes back unchanged.
//
// raw need not parse: a URL that does not (a password with an unescaped '#',
// a space, no scheme) loses everything between its "//" (or its start) and
// its last '@', so that a secret is never shown because the URL was malformed.
func URL(raw string) string {
	if !strings.Contains(raw, "@") {
		return raw // no userinfo possible: keep the text exactly as given
	}
	if u, err := url.Parse(raw); err == nil && u.Opaque == "" {
		if u.User == nil {
			return raw
		}
		u.User = nil
		return u.String()
	}
	prefix, rest := "", raw
	if i := strings.Index(raw, "//"); i >= 0 {
		prefix, rest = raw[:i+2], raw[i+2:]
	}
	return prefix + rest[strings.LastIndexByte(rest, '@')+1:]
}
