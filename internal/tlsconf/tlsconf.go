// Package tlsconf reads the `tls:` settings that every sluice connection
// shares — to Kafka brokers, to the schema registry, and of the registry's
// own server — and turns them into a *tls.Config.
//
// It depends on the standard library and processors/config only.
// The rules are checked by TestImportRules (arch_test.go).
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/sluicehq/sluice/processors/config"
)

// Config is a `tls:` block.
type Config struct {
	// Enabled turns TLS on. A `tls:` block is enabled unless it says
	// `enabled: false`.
	Enabled bool
	// CAFile is a PEM bundle of the certificate authorities to trust
	// instead of the system's.
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and its key (mutual
	// TLS); for a server, its own certificate.
	CertFile, KeyFile string
	// ServerName overrides the name checked in the server's certificate.
	ServerName string
	// InsecureSkipVerify accepts any server certificate. For tests only.
	InsecureSkipVerify bool
}

// Load reads a `tls:` block; n may be nil (no block: TLS off). Problems are
// reported at the field, and a configured file that cannot be read or
// parsed is one of them, so `sluice validate` finds it.
func Load(n *config.Node) Config {
	if n == nil {
		return Config{}
	}
	m := n.Map()
	if m == nil {
		return Config{}
	}
	c := Config{
		Enabled:            m.BoolOr("enabled", true),
		CAFile:             m.StringOr("ca_file", ""),
		CertFile:           m.StringOr("cert_file", ""),
		KeyFile:            m.StringOr("key_file", ""),
		ServerName:         m.StringOr("server_name", ""),
		InsecureSkipVerify: m.BoolOr("insecure_skip_verify", false),
	}
	m.Done()
	if c.Enabled {
		if _, err := c.Client(); err != nil {
			n.Errorf("%v", err)
		}
	}
	return c
}

// Client returns the client configuration, or nil when TLS is off.
func (c Config) Client() (*tls.Config, error) {
	if !c.Enabled {
		return nil, nil
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         c.ServerName,
		InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // asked for explicitly, for tests
	}
	if c.CAFile != "" {
		pool, err := loadCAs(c.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if c.CertFile != "" || c.KeyFile != "" {
		cert, err := c.keyPair()
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// Server returns the configuration of a TLS server, or nil when TLS is off.
// With a CAFile, clients must present a certificate signed by it.
func (c Config) Server() (*tls.Config, error) {
	if !c.Enabled {
		return nil, nil
	}
	if c.CertFile == "" || c.KeyFile == "" {
		return nil, errors.New("tls: a server needs cert_file and key_file")
	}
	cert, err := c.keyPair()
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if c.CAFile != "" {
		pool, err := loadCAs(c.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

func (c Config) keyPair() (tls.Certificate, error) {
	if c.CertFile == "" || c.KeyFile == "" {
		return tls.Certificate{}, errors.New("tls: cert_file and key_file go together")
	}
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tls: loading cert_file %s and key_file %s: %w", c.CertFile, c.KeyFile, err)
	}
	return cert, nil
}

func loadCAs(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("tls: reading ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls: ca_file %s holds no PEM certificate", file)
	}
	return pool, nil
}
