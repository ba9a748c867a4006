package config

import (
	"bytes"
	"os"
)

// Secret returns the secret under key, read from the value of key itself
// (which may be ${ENV}) or from the file named by key_file, as Kubernetes
// and Docker mount secrets. A trailing newline in the file is dropped.
// Both keys at once is an error. Errors name the key and the file, never
// the secret.
func (m *Map) Secret(key string) string {
	v, f := m.Get(key), m.Get(key+"_file")
	switch {
	case v != nil && f != nil:
		f.Errorf("%s and %s_file are both set: give the secret one way", key, key)
		return ""
	case v != nil:
		return v.String()
	case f != nil:
		path := f.String()
		if path == "" {
			f.Errorf("%s_file is empty", key)
			return ""
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Errorf("reading %s_file: %v", key, err)
			return ""
		}
		return string(bytes.TrimRight(b, "\r\n"))
	}
	return ""
}

// HasSecret reports whether key or key_file is present, without marking either used.
func (m *Map) HasSecret(key string) bool { return m.Has(key) || m.Has(key+"_file") }
