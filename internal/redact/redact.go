// Package redact removes secrets from text that reaches errors and log lines.
//
// It imports only the standard library, so that any package can use it.
// The rules are checked by TestImportRules (arch_test.go).
package redact

import (
	"net/url"
	"strings"
)

// Masked replaces the value of a secret query parameter.
const Masked = "REDACTED"

// URL returns raw without its secrets, so that the URL can be shown in an
// error or a log line:
//
//   - its userinfo (the "user:password@" of http://user:password@host:8081) is
//     removed;
//   - the value of each query or fragment parameter whose name says it holds a
//     secret (token, key, secret, password, auth, signature, credential,
//     session: ?access_token=..., ?api_key=...) becomes Masked.
//
// A URL without either comes back unchanged.
//
// raw need not parse: a URL that does not (a password with an unescaped '#',
// a space, no scheme) loses everything between its "//" (or its start) and
// its last '@', so that a secret is never shown because the URL was malformed.
func URL(raw string) string {
	return params(userinfo(raw))
}

// userinfo removes raw's userinfo.
func userinfo(raw string) string {
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

// params masks the values of the secret parameters of raw's query and
// fragment. It works on the text, so that a URL that does not parse is
// masked too and one that does keeps its spelling.
func params(raw string) string {
	q := strings.IndexAny(raw, "?#")
	if q < 0 {
		return raw
	}
	var b strings.Builder
	b.WriteString(raw[:q+1])
	rest := raw[q+1:]
	for {
		end := strings.IndexAny(rest, "&;#")
		part := rest
		if end >= 0 {
			part = rest[:end]
		}
		name, _, hasValue := strings.Cut(part, "=")
		if hasValue && secretName(name) {
			b.WriteString(name + "=" + Masked)
		} else {
			b.WriteString(part)
		}
		if end < 0 {
			return b.String()
		}
		b.WriteByte(rest[end])
		rest = rest[end+1:]
	}
}

// secretName reports whether a query parameter named name (as written,
// possibly %-escaped) holds a secret.
func secretName(name string) bool {
	if n, err := url.QueryUnescape(name); err == nil {
		name = n
	}
	name = strings.ToLower(name)
	for _, w := range [...]string{"token", "key", "secret", "pass", "pwd", "auth", "sig", "cred", "session", "jwt"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}
