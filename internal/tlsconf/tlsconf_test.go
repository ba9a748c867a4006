package tlsconf_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/internal/tlsconf"
	"github.com/sluicehq/sluice/processors/config"
)

func load(t *testing.T, src string) (tlsconf.Config, error) {
	t.Helper()
	rep := &config.Reporter{}
	root, err := config.ParseFile("c.yaml", []byte(src), func(string) string { return "" }, rep)
	if err != nil {
		t.Fatal(err)
	}
	m := root.Map()
	c := tlsconf.Load(m.Get("tls"))
	m.Done()
	return c, rep.Err()
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	cert, key := testkit.SelfSignedCert(t)

	c, err := load(t, "tls: {ca_file: "+cert+", cert_file: "+cert+", key_file: "+key+", server_name: broker}")
	if err != nil {
		t.Fatal(err)
	}
	cc, err := c.Client()
	if err != nil || cc == nil || cc.RootCAs == nil || len(cc.Certificates) != 1 || cc.ServerName != "broker" {
		t.Fatalf("client config %+v, %v", cc, err)
	}
	sc, err := c.Server()
	if err != nil || sc.ClientCAs == nil || len(sc.Certificates) != 1 {
		t.Fatalf("server config %+v, %v", sc, err)
	}

	if c, err := load(t, "tls: {enabled: false, ca_file: /nope}"); err != nil || c.Enabled {
		t.Fatalf("disabled block: %+v, %v", c, err)
	}
	if c, err := load(t, "other: 1\ntls: {enabled: true}"); err == nil || !c.Enabled {
		// "other" is unknown at the top: the reporter must say so, and the
		// empty block still enables TLS with the system's CAs.
		t.Fatalf("want an unknown-field error and TLS on, got %+v, %v", c, err)
	}

	for src, want := range map[string]string{
		"tls: {ca_file: " + filepath.Join(dir, "none") + "}": "c.yaml:1:6: tls: reading ca_file",
		"tls: {ca_file: " + key + "}":                        "holds no PEM certificate",
		"tls: {cert_file: " + cert + "}":                     "cert_file and key_file go together",
		"tls: {sni: x}":                                      `unknown field "sni"`,
	} {
		if _, err := load(t, src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", src, err, want)
		}
	}
}
