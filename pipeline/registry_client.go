package pipeline

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/sluicehq/sluice/internal/redact"
	"github.com/sluicehq/sluice/registry/regclient"
)

// Client returns a client of the schema registry at url (registry.url when
// url is empty) that authenticates with r's credentials and TLS settings.
// It does no I/O.
func (r Registry) Client(url string) (*regclient.Client, error) {
	if url == "" {
		url = r.URL
	}
	tlsCfg, err := r.TLS.Client()
	if err != nil {
		return nil, fmt.Errorf("schema registry %s: %w", redact.URL(url), err)
	}
	return regclient.New(regclient.Config{
		URL:         url,
		Username:    r.Username,
		Password:    r.Password,
		BearerToken: r.BearerToken,
		TLS:         tlsCfg,
	})
}

// auth names how r authenticates, without the secrets.
func (r Registry) auth() string {
	switch {
	case r.Username != "":
		return "basic auth as " + r.Username
	case r.BearerToken != "":
		return "bearer token"
	}
	return "none"
}

// String describes r without its secrets, so that printing a Config (%+v)
// cannot show them.
func (r Registry) String() string {
	return fmt.Sprintf("{URL:%s SubjectStrategy:%s Auth:%s TLS:%v}", redact.URL(r.URL), r.SubjectStrategy, r.auth(), r.TLS.Enabled)
}

// GoString is String, for %#v.
func (r Registry) GoString() string { return r.String() }

// LogValue describes r in a log line without its secrets.
func (r Registry) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", redact.URL(r.URL)),
		slog.String("subject_strategy", r.SubjectStrategy),
		slog.String("auth", r.auth()),
		slog.Bool("tls", r.TLS.Enabled),
	)
}

// credentialsRefused is the error of a registry that answers 401 or 403 to
// sluice before it starts: a configuration error that waiting does not fix,
// and that must not turn messages into dead letters. url has no userinfo;
// err (a *regclient.Error) names the request without credentials.
func credentialsRefused(url string, err error) error {
	status := 0
	var re *regclient.Error
	if errors.As(err, &re) {
		status = re.StatusCode
	}
	if url == "" {
		url = "(no URL)"
	}
	return fmt.Errorf("schema registry at %s refused the credentials (%d): check registry.basic_auth or registry.bearer_token "+
		"(or $SLUICE_REGISTRY_USERNAME with $SLUICE_REGISTRY_PASSWORD, or $SLUICE_REGISTRY_BEARER_TOKEN): %w", url, status, err)
}
