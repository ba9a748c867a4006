package kafkaconn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/sluicehq/sluice/processors/config"
)

// SASL mechanisms.
const (
	Plain       = "PLAIN"
	ScramSHA256 = "SCRAM-SHA-256"
	ScramSHA512 = "SCRAM-SHA-512"
	OAuthBearer = "OAUTHBEARER"
)

// Mechanisms lists the SASL mechanisms sluice speaks.
func Mechanisms() []string { return []string{Plain, ScramSHA256, ScramSHA512, OAuthBearer} }

// SASL is how a client authenticates. Its String form never shows the
// password or the token.
type SASL struct {
	// Mechanism is PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER;
	// empty turns SASL off.
	Mechanism string
	// Username and Password authenticate PLAIN and SCRAM.
	Username string
	Password string
	// Token is OAUTHBEARER's static token; TokenFile a file holding the
	// token, read at each authentication so that a token refreshed by
	// another process (a sidecar, a Kubernetes projected volume) is used
	// as soon as it changes. One of the two.
	Token     string
	TokenFile string
}

// Enabled reports whether a mechanism is set.
func (s SASL) Enabled() bool { return s.Mechanism != "" }

// String describes s without its secrets.
func (s SASL) String() string {
	switch {
	case !s.Enabled():
		return "none"
	case s.Mechanism == OAuthBearer && s.TokenFile != "":
		return fmt.Sprintf("%s (token from %s)", s.Mechanism, s.TokenFile)
	case s.Mechanism == OAuthBearer:
		return s.Mechanism + " (static token)"
	}
	return fmt.Sprintf("%s (user %s)", s.Mechanism, s.Username)
}

// GoString is String: %#v must not print the password either.
func (s SASL) GoString() string { return "kafkaconn.SASL{" + s.String() + "}" }

// NormalizeMechanism returns the canonical spelling of a mechanism name
// ("scram-sha-512" is SCRAM-SHA-512), and whether sluice knows it.
func NormalizeMechanism(name string) (string, bool) {
	up := strings.ToUpper(strings.TrimSpace(name))
	for _, m := range Mechanisms() {
		if up == m {
			return m, true
		}
	}
	return name, false
}

// Validate reports a mechanism sluice does not know and missing or
// misplaced credentials. Its errors name fields, never their values.
func (s SASL) Validate() error {
	if !s.Enabled() {
		if s.Username != "" || s.Password != "" || s.Token != "" || s.TokenFile != "" {
			return errors.New("sasl: credentials without a mechanism (" + strings.Join(Mechanisms(), ", ") + ")")
		}
		return nil
	}
	switch s.Mechanism {
	case Plain, ScramSHA256, ScramSHA512:
		switch {
		case s.Username == "":
			return fmt.Errorf("sasl: %s needs a username", s.Mechanism)
		case s.Password == "":
			return fmt.Errorf("sasl: %s needs a password", s.Mechanism)
		case s.Token != "" || s.TokenFile != "":
			return fmt.Errorf("sasl: a token is for OAUTHBEARER, not %s", s.Mechanism)
		}
	case OAuthBearer:
		switch {
		case s.Token == "" && s.TokenFile == "":
			return errors.New("sasl: OAUTHBEARER needs a token or a token_file")
		case s.Token != "" && s.TokenFile != "":
			return errors.New("sasl: token and token_file are both set: give the token one way")
		case s.Username != "" || s.Password != "":
			return errors.New("sasl: OAUTHBEARER takes a token, not a username and password")
		}
	default:
		return fmt.Errorf("sasl: unknown mechanism %q (%s)", s.Mechanism, strings.Join(Mechanisms(), ", "))
	}
	return nil
}

// BearerToken returns OAUTHBEARER's token: the static one, or the content
// of TokenFile now (a trailing newline dropped).
func (s SASL) BearerToken() (string, error) {
	if s.TokenFile == "" {
		return s.Token, nil
	}
	b, err := os.ReadFile(s.TokenFile)
	if err != nil {
		return "", fmt.Errorf("sasl: reading token_file: %w", err)
	}
	tok := string(bytes.TrimSpace(b))
	if tok == "" {
		return "", fmt.Errorf("sasl: token_file %s is empty", s.TokenFile)
	}
	return tok, nil
}

// mechanism is s as a franz-go mechanism, nil when SASL is off. s is valid.
func (s SASL) mechanism() sasl.Mechanism {
	switch s.Mechanism {
	case Plain:
		return plain.Auth{User: s.Username, Pass: s.Password}.AsMechanism()
	case ScramSHA256:
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha256Mechanism()
	case ScramSHA512:
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha512Mechanism()
	case OAuthBearer:
		return oauth.Oauth(func(context.Context) (oauth.Auth, error) {
			tok, err := s.BearerToken()
			return oauth.Auth{Token: tok}, err
		})
	}
	return nil
}

// LoadSASL reads a `sasl:` block; n may be nil (no block: SASL off), and
// a block without a mechanism (mechanism: ${SLUICE_SASL_MECHANISM:-} with
// the variable unset) turns SASL off as well.
// Secrets come from password or password_file and token or token_file
// (${ENV} works in all of them); problems are reported at their field.
func LoadSASL(n *config.Node) SASL {
	if n == nil {
		return SASL{}
	}
	m := n.Map()
	if m == nil {
		return SASL{}
	}
	var s SASL
	mech := m.Get("mechanism")
	s.Username = m.StringOr("username", "")
	s.Password = m.Secret("password")
	if t := m.Get("token"); t != nil {
		s.Token = t.String()
	}
	if f := m.Get("token_file"); f != nil {
		// Read at each authentication; checked now so that validate finds
		// a wrong path. Empty (an unset ${VAR:-}) means none.
		if s.TokenFile = f.String(); s.TokenFile != "" {
			if _, err := os.Stat(s.TokenFile); err != nil {
				f.Errorf("token_file: %v", err)
			}
		}
	}
	m.Done()
	if mech == nil || mech.String() == "" {
		// No mechanism (or an unset ${VAR:-}): SASL is off, and credentials
		// without a mechanism are a mistake worth reporting.
		if err := s.Validate(); err != nil {
			n.Errorf("%v", err)
		}
		return SASL{}
	}
	name, ok := NormalizeMechanism(mech.String())
	if !ok {
		mech.Errorf("unknown SASL mechanism %q (%s)", mech.String(), strings.Join(Mechanisms(), ", "))
		return s
	}
	s.Mechanism = name
	if err := s.Validate(); err != nil {
		n.Errorf("%v", err)
	}
	return s
}
