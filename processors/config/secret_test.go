package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PW": "from-env"}
	cases := []struct {
		name, src, want, wantErr string
	}{
		{"inline", "password: plain", "plain", ""},
		{"env", "password: ${PW}", "from-env", ""},
		{"file", "password_file: " + file, "from-file", ""},
		{"absent", "other: x", "", ""},
		{"both", "password: a\npassword_file: " + file, "", "password and password_file are both set"},
		{"missing file", "password_file: " + filepath.Join(dir, "nope"), "", "reading password_file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := &Reporter{}
			root, err := ParseFile("s.yaml", []byte(c.src), func(k string) string { return env[k] }, rep)
			if err != nil {
				t.Fatal(err)
			}
			m := root.Map()
			got := m.Secret("password")
			m.Get("other")
			m.Done()
			if got != c.want {
				t.Errorf("Secret = %q, want %q", got, c.want)
			}
			err = rep.Err()
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("error %v, want one containing %q", err, c.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), "from-file") || strings.Contains(err.Error(), "from-env")) {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
}
