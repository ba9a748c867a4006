package cli

import (
	"bytes"
	"os"

	"github.com/spf13/pflag"

	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/registry/regclient"
)

// Environment variables of the schema registry client's credentials and TLS
// settings. The password and the token have no flag of their own, so that
// they never show in a process list or a shell history: they come from the
// environment or from a file.
const (
	envRegistryUsername        = "SLUICE_REGISTRY_USERNAME"
	envRegistryPassword        = "SLUICE_REGISTRY_PASSWORD"
	envRegistryPasswordFile    = "SLUICE_REGISTRY_PASSWORD_FILE"
	envRegistryBearerToken     = "SLUICE_REGISTRY_BEARER_TOKEN"
	envRegistryBearerTokenFile = "SLUICE_REGISTRY_BEARER_TOKEN_FILE"
	envRegistryCAFile          = "SLUICE_REGISTRY_CA_FILE"
	envRegistryCertFile        = "SLUICE_REGISTRY_CERT_FILE"
	envRegistryKeyFile         = "SLUICE_REGISTRY_KEY_FILE"
	envRegistryServerName      = "SLUICE_REGISTRY_SERVER_NAME"
)

// registryAuthFlags are how the commands that take --registry authenticate
// to it and trust it: --registry-* flags, each defaulting to its
// $SLUICE_REGISTRY_* variable (see resolve).
type registryAuthFlags struct {
	username, passwordFile, bearerTokenFile string
	caFile, certFile, keyFile, serverName   string
	insecureSkipVerify                      bool
	// password and bearerToken come from the environment only.
	password, bearerToken string
}

// addRegistryAuthFlags registers the --registry-* flags on fs.
func addRegistryAuthFlags(fs *pflag.FlagSet, f *registryAuthFlags) {
	fs.StringVar(&f.username, "registry-username", "", "schema registry basic auth user (default $"+envRegistryUsername+"); the password comes from $"+envRegistryPassword+" or --registry-password-file")
	fs.StringVar(&f.passwordFile, "registry-password-file", "", "file holding the schema registry basic auth password (default $"+envRegistryPasswordFile+")")
	fs.StringVar(&f.bearerTokenFile, "registry-bearer-token-file", "", "file holding a bearer token for the schema registry, instead of basic auth (default $"+envRegistryBearerTokenFile+"; or the token in $"+envRegistryBearerToken+")")
	fs.StringVar(&f.caFile, "registry-ca-file", "", "PEM certificate authorities to trust for an https:// schema registry instead of the system's (default $"+envRegistryCAFile+")")
	fs.StringVar(&f.certFile, "registry-cert-file", "", "PEM client certificate for the schema registry, mutual TLS (default $"+envRegistryCertFile+")")
	fs.StringVar(&f.keyFile, "registry-key-file", "", "PEM key of --registry-cert-file (default $"+envRegistryKeyFile+")")
	fs.StringVar(&f.serverName, "registry-server-name", "", "name to check in the schema registry's certificate, when not the URL's host (default $"+envRegistryServerName+")")
	fs.BoolVar(&f.insecureSkipVerify, "registry-insecure-skip-verify", false, "accept any schema registry certificate (tests only)")
}

// resolve fills in what the flags left empty from the environment.
func (f *registryAuthFlags) resolve(getenv func(string) string) {
	for _, v := range []struct {
		flag *string
		env  string
	}{
		{&f.username, envRegistryUsername},
		{&f.passwordFile, envRegistryPasswordFile},
		{&f.bearerTokenFile, envRegistryBearerTokenFile},
		{&f.caFile, envRegistryCAFile},
		{&f.certFile, envRegistryCertFile},
		{&f.keyFile, envRegistryKeyFile},
		{&f.serverName, envRegistryServerName},
	} {
		if *v.flag == "" {
			*v.flag = getenv(v.env)
		}
	}
	f.password = getenv(envRegistryPassword)
	f.bearerToken = getenv(envRegistryBearerToken)
}

// apply sets r's credentials and TLS settings from the resolved flags. Any
// credential given replaces those of the pipelines file (registry.basic_auth,
// registry.bearer_token); each TLS setting given replaces its registry.tls
// key and turns TLS on. Errors are usage errors and never show a secret.
func (f *registryAuthFlags) apply(r *pipeline.Registry) error {
	password, err := secretOf(f.password, envRegistryPassword, f.passwordFile, "--registry-password-file")
	if err != nil {
		return err
	}
	token, err := secretOf(f.bearerToken, envRegistryBearerToken, f.bearerTokenFile, "--registry-bearer-token-file")
	if err != nil {
		return err
	}
	switch {
	case f.username != "" && token != "":
		return usagef("schema registry: both a user (--registry-username / $%s) and a bearer token: give one", envRegistryUsername)
	case f.username == "" && password != "":
		return usagef("schema registry: a password without a user: set --registry-username or $%s", envRegistryUsername)
	case f.username != "" && password == "":
		return usagef("schema registry: user %s has no password: set $%s or --registry-password-file", f.username, envRegistryPassword)
	}
	if f.username != "" || token != "" {
		r.Username, r.Password, r.BearerToken = f.username, password, token
	}
	if f.caFile != "" || f.certFile != "" || f.keyFile != "" || f.serverName != "" || f.insecureSkipVerify {
		r.TLS.Enabled = true
		for _, v := range []struct{ from, to *string }{
			{&f.caFile, &r.TLS.CAFile}, {&f.certFile, &r.TLS.CertFile}, {&f.keyFile, &r.TLS.KeyFile}, {&f.serverName, &r.TLS.ServerName},
		} {
			if *v.from != "" {
				*v.to = *v.from
			}
		}
		r.TLS.InsecureSkipVerify = r.TLS.InsecureSkipVerify || f.insecureSkipVerify
		if _, err := r.TLS.Client(); err != nil {
			return usagef("schema registry --registry-*-file: %v", err)
		}
	}
	return nil
}

// secretOf returns the secret of environment variable env (value) or of the
// file flag names (file), not both. A trailing newline in the file is dropped.
func secretOf(value, env, file, flag string) (string, error) {
	switch {
	case value != "" && file != "":
		return "", usagef("both $%s and %s are set: give the secret one way", env, flag)
	case file == "":
		return value, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", usagef("%s: %v", flag, err)
	}
	s := string(bytes.TrimRight(b, "\r\n"))
	if s == "" {
		return "", usagef("%s: %s is empty", flag, file)
	}
	return s, nil
}

// registryClient returns the client of the schema registry at url
// (registry.url when empty) with the credentials and TLS settings of r
// overridden by f. Its errors are usage errors.
func (f *registryAuthFlags) registryClient(r pipeline.Registry, url string) (*regclient.Client, error) {
	if err := f.apply(&r); err != nil {
		return nil, err
	}
	c, err := r.Client(url)
	if err != nil {
		return nil, usagef("--registry: %v", err)
	}
	return c, nil
}
