// Package kafkasarama applies a kafkaconn.Config to a *sarama.Config, so
// that the pipelines, which goka runs on sarama, connect exactly as every
// franz-go client of sluice does.
//
// It is kafkaconn's only link to sarama, kept apart so that the packages
// that must not reach sarama (the registry, the dlq tools) can use
// kafkaconn. It depends on kafkaconn, sarama and xdg-go/scram only.
// The rules are checked by TestImportRules (arch_test.go).
package kafkasarama

import (
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"

	"github.com/IBM/sarama"
	"github.com/xdg-go/scram"

	"github.com/sluicehq/sluice/internal/kafkaconn"
)

// Apply sets cfg's client id (when c has one), TLS and SASL from c.
func Apply(cfg *sarama.Config, c kafkaconn.Config) error {
	if err := c.SASL.Validate(); err != nil {
		return err
	}
	if c.ClientID != "" {
		cfg.ClientID = c.ClientID
	}
	tlsCfg, err := c.TLS.Client()
	if err != nil {
		return err
	}
	if tlsCfg != nil {
		// Without a server_name, crypto/tls checks the certificate against
		// the host sarama dials.
		cfg.Net.TLS.Enable = true
		cfg.Net.TLS.Config = tlsCfg
	}
	s := c.SASL
	if !s.Enabled() {
		return nil
	}
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Handshake = true
	cfg.Net.SASL.Mechanism = sarama.SASLMechanism(s.Mechanism)
	switch s.Mechanism {
	case kafkaconn.Plain:
		cfg.Net.SASL.User, cfg.Net.SASL.Password = s.Username, s.Password
	case kafkaconn.ScramSHA256:
		cfg.Net.SASL.User, cfg.Net.SASL.Password = s.Username, s.Password
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: scram.HashGeneratorFcn(sha256.New)} }
	case kafkaconn.ScramSHA512:
		cfg.Net.SASL.User, cfg.Net.SASL.Password = s.Username, s.Password
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: scram.HashGeneratorFcn(sha512.New)} }
	case kafkaconn.OAuthBearer:
		cfg.Net.SASL.TokenProvider = tokenProvider{s}
	default:
		return fmt.Errorf("sasl: unknown mechanism %q", s.Mechanism)
	}
	return nil
}

// scramClient is sarama's SCRAM conversation, run by xdg-go/scram.
type scramClient struct {
	hash scram.HashGeneratorFcn
	conv *scram.ClientConversation
}

func (c *scramClient) Begin(user, password, authzID string) error {
	cl, err := c.hash.NewClient(user, password, authzID)
	if err != nil {
		// Not wrapped: xdg-go's error quotes the string that failed
		// SASLprep, which may be the password.
		return errors.New("sasl: the SCRAM username or password is not valid for SASLprep (RFC 4013)")
	}
	c.conv = cl.NewConversation()
	return nil
}

func (c *scramClient) Step(challenge string) (string, error) { return c.conv.Step(challenge) }

func (c *scramClient) Done() bool { return c.conv.Done() }

// tokenProvider gives sarama OAUTHBEARER's token, re-reading a token file
// at each authentication.
type tokenProvider struct{ s kafkaconn.SASL }

func (p tokenProvider) Token() (*sarama.AccessToken, error) {
	tok, err := p.s.BearerToken()
	if err != nil {
		return nil, err
	}
	return &sarama.AccessToken{Token: tok}, nil
}
