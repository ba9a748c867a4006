package pipeline

import (
	"net/url"
	"strings"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/tlsconf"
	"github.com/sluicehq/sluice/processors/config"
)

// registry reads the registry section: url, subject_strategy, and how to
// authenticate (basic_auth or bearer_token, each secret from its value,
// which may be ${ENV}, or from a *_file) and connect (tls).
func (l *loader) registry(n *config.Node) Registry {
	r := Registry{SubjectStrategy: "topic_name"}
	if n == nil {
		return r
	}
	m := n.Map()
	if m == nil {
		return r
	}
	urlNode := m.Get("url")
	if urlNode != nil {
		r.URL = urlNode.String()
	}
	if v := m.Get("subject_strategy"); v != nil {
		r.SubjectStrategy = v.String()
		if _, ok := subjectStrategies[r.SubjectStrategy]; !ok {
			v.Errorf("unknown subject_strategy %q (topic_name, record_name or topic_record_name)", r.SubjectStrategy)
		}
	}
	basic := m.Get("basic_auth")
	if basic != nil {
		r.Username, r.Password = l.basicAuth(basic)
	}
	if m.HasSecret("bearer_token") {
		r.BearerToken = l.secret(m, "bearer_token")
		if basic != nil {
			basic.Errorf("basic_auth and bearer_token are both set: the registry takes one way to authenticate")
		}
	}
	tlsNode := m.Get("tls")
	r.TLS = tlsconf.Load(tlsNode)
	m.Done()
	if urlNode != nil {
		// The errors do not quote the URL: it may hold a password.
		if u, err := url.Parse(r.URL); err == nil {
			if u.User != nil && (basic != nil || r.BearerToken != "") {
				urlNode.Errorf("the URL has credentials (user:password@) and basic_auth or bearer_token is set too: give them one way")
			}
			if u.Scheme == "http" && r.TLS.Enabled {
				tlsNode.Errorf("tls is set but registry.url is http://: use an https:// URL")
			}
		}
	}
	return r
}

// basicAuth reads registry.basic_auth: a username and a password (or
// password_file), neither empty.
func (l *loader) basicAuth(n *config.Node) (user, password string) {
	m := n.Map()
	if m == nil {
		return "", ""
	}
	if u := m.Need("username"); u != nil {
		user = u.String()
		switch {
		case user == "" && !u.IsNull():
			u.Errorf("username is empty")
		case strings.Contains(user, ":"):
			u.Errorf("a basic auth username cannot contain ':'")
		}
	}
	if m.HasSecret("password") {
		password = l.secret(m, "password")
	} else {
		n.Errorf("missing required field \"password\" (or password_file)")
	}
	m.Done()
	return user, password
}

// secret reads the secret under key or key_file (see config.Map.Secret) and
// reports an empty one: an unset ${VAR:-} must not silently send no
// credentials.
func (l *loader) secret(m *config.Map, key string) string {
	before := l.rep.Len()
	s := m.Secret(key)
	if s == "" && l.rep.Len() == before {
		n := m.Get(key)
		if n == nil {
			n = m.Get(key + "_file")
		}
		n.Errorf("%s is empty", key)
	}
	return s
}

var subjectStrategies = map[string]codecs.SubjectStrategy{
	"topic_name":        codecs.TopicNameStrategy,
	"record_name":       codecs.RecordNameStrategy,
	"topic_record_name": codecs.TopicRecordNameStrategy,
}

// Strategy is the subject strategy registry.subject_strategy names (topic
// name when unset).
func (r Registry) Strategy() codecs.SubjectStrategy {
	if s, ok := subjectStrategies[r.SubjectStrategy]; ok {
		return s
	}
	return codecs.TopicNameStrategy
}
