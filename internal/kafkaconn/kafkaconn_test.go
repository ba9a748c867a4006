package kafkaconn_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/processors/config"
)

const secret = "s3cret-Pa55word"

func loadSASL(t *testing.T, src string, env map[string]string) (kafkaconn.SASL, error) {
	t.Helper()
	rep := &config.Reporter{}
	root, err := config.ParseFile("p.yaml", []byte(src), func(k string) string { return env[k] }, rep)
	if err != nil {
		t.Fatal(err)
	}
	m := root.Map()
	s := kafkaconn.LoadSASL(m.Get("sasl"))
	m.Done()
	return s, rep.Err()
}

func TestLoadSASL(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PW": secret}

	s, err := loadSASL(t, "sasl: {mechanism: scram-sha-512, username: app, password: '${PW}'}", env)
	if err != nil || s.Mechanism != kafkaconn.ScramSHA512 || s.Username != "app" || s.Password != secret {
		t.Fatalf("from env: %+v, %v", s, err)
	}
	if s, err := loadSASL(t, "sasl: {mechanism: PLAIN, username: app, password_file: "+pwFile+"}", env); err != nil || s.Password != secret {
		t.Fatalf("from file: %v", err)
	}
	if s, err := loadSASL(t, "sasl: {mechanism: OAUTHBEARER, token_file: "+pwFile+"}", env); err != nil || s.TokenFile != pwFile {
		t.Fatalf("token file: %+v, %v", s, err)
	}
	if s, err := loadSASL(t, "sasl: {mechanism: '${NONE:-}', username: '${NONE:-}', password: '${NONE:-}'}", env); err != nil || s.Enabled() {
		t.Fatalf("unset variables: %+v, %v", s, err)
	}
	for _, show := range []string{s.String(), fmt.Sprintf("%v %+v %#v", s, s, s)} {
		if strings.Contains(show, secret) {
			t.Errorf("%q shows the password", show)
		}
	}

	for src, want := range map[string]string{
		"sasl: {mechanism: GSSAPI, username: a, password: '${PW}'}":                               `p.yaml:1:19: unknown SASL mechanism "GSSAPI"`,
		"sasl: {mechanism: PLAIN, password: '${PW}'}":                                             "p.yaml:1:7: sasl: PLAIN needs a username",
		"sasl: {mechanism: SCRAM-SHA-256, username: a}":                                           "SCRAM-SHA-256 needs a password",
		"sasl: {mechanism: PLAIN, username: a, password: x, token: t}":                            "a token is for OAUTHBEARER",
		"sasl: {mechanism: OAUTHBEARER}":                                                          "OAUTHBEARER needs a token or a token_file",
		"sasl: {mechanism: OAUTHBEARER, token: t, username: a}":                                   "takes a token, not a username",
		"sasl: {mechanism: PLAIN, username: a, password: '${PW}', pasword: x}":                    `unknown field "pasword"`,
		"sasl: {mechanism: PLAIN, username: a, password: '${PW}', password_file: " + pwFile + "}": "password and password_file are both set",
		"sasl: {mechanism: OAUTHBEARER, token_file: " + filepath.Join(dir, "none") + "}":          "token_file:",
		"sasl: {username: a}": "credentials without a mechanism",
	} {
		_, err := loadSASL(t, src, env)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", src, err, want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error %q shows the password", src, err)
		}
	}
}

// TestBearerTokenFile: a token file is read at each authentication, so a
// refreshed token is used without a restart.
func TestBearerTokenFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	s := kafkaconn.SASL{Mechanism: kafkaconn.OAuthBearer, TokenFile: file}
	if _, err := s.BearerToken(); err == nil {
		t.Fatal("no error for a missing token file")
	}
	for _, tok := range []string{"first", "second"} {
		if err := os.WriteFile(file, []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := s.BearerToken(); err != nil || got != tok {
			t.Fatalf("token %q, %v; want %q", got, err, tok)
		}
	}
	if _, err := (kafkaconn.Config{Brokers: []string{"127.0.0.1:1"}, SASL: s}).Opts(); err != nil {
		t.Fatal(err)
	}
}

// TestSecureBroker: clients made by the factory create a topic, produce and
// consume on a broker that requires SASL, TLS or both.
func TestSecureBroker(t *testing.T) {
	for _, c := range []struct {
		name string
		tls  bool
		mech string
	}{
		{"SASL_PLAINTEXT SCRAM-SHA-512", false, kafkaconn.ScramSHA512},
		{"SSL", true, ""},
		{"SASL_SSL SCRAM-SHA-256", true, kafkaconn.ScramSHA256},
		{"SASL_SSL PLAIN", true, kafkaconn.Plain},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s kafkaconn.SASL
			if c.mech != "" {
				s = kafkaconn.SASL{Mechanism: c.mech, Username: "sluice", Password: secret}
			}
			conn := testkit.SecureBroker(t, c.tls, s)
			if got := conn.Protocol(); got != strings.Fields(c.name)[0] {
				t.Errorf("protocol %s, want %s", got, strings.Fields(c.name)[0])
			}
			roundTrip(t, conn)
		})
	}
}

func roundTrip(t *testing.T, conn kafkaconn.Config) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm, err := conn.NewAdmin()
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if err := kafkaconn.Ping(ctx, adm); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if err := kafkaconn.CreateTopic(ctx, adm, "t", 3, 1, map[string]string{"cleanup.policy": "compact"}); err != nil {
		t.Fatal(err)
	}
	if ps, err := kafkaconn.Partitions(ctx, adm, "t"); err != nil || len(ps) != 3 {
		t.Fatalf("partitions %v, %v", ps, err)
	}
	if cfgs, err := kafkaconn.TopicConfigs(ctx, adm, []string{"cleanup.policy"}, "t"); err != nil || cfgs["t"]["cleanup.policy"] != "compact" {
		t.Fatalf("configs %v, %v", cfgs, err)
	}
	cl, err := conn.NewClient(kgo.DefaultProduceTopic("t"), kgo.ConsumeTopics("t"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte("k"), Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	fs := cl.PollRecords(ctx, 1)
	if err := fs.Err0(); err != nil || len(fs.Records()) != 1 || string(fs.Records()[0].Value) != "v" {
		t.Fatalf("consumed %v, %v", fs.Records(), err)
	}
	if err := kafkaconn.DeleteTopic(ctx, adm, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := kafkaconn.Partitions(ctx, adm, "gone"); err == nil || !strings.Contains(err.Error(), kafkaconn.ErrNoTopic.Error()) {
		t.Fatalf("missing topic: %v", err)
	}
}

// TestWrongPassword: a wrong password is an error at once, not retried
// until a deadline, that names the user and never shows the password. On a
// real cluster with SASL ($SLUICE_TEST_KAFKA_SASL_*) it is Kafka's
// SASL_AUTHENTICATION_FAILED; kfake closes the connection instead.
func TestWrongPassword(t *testing.T) {
	conn := testkit.Kafka(testkit.Brokers(t))
	real := conn.SASL.Enabled()
	if !real {
		conn = testkit.SecureBroker(t, true, kafkaconn.SASL{Mechanism: kafkaconn.ScramSHA512, Username: "sluice", Password: secret})
	}
	right := conn.SASL.Password
	const wrong = "wr0ng-Pa55word"
	conn.SASL.Password = wrong
	adm, err := conn.NewAdmin()
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = kafkaconn.Ping(ctx, adm)
	if err == nil {
		t.Fatal("a wrong password connected")
	}
	if ctx.Err() != nil {
		t.Fatalf("the wrong password was retried until the deadline: %v", err)
	}
	err = fmt.Errorf("connecting to Kafka (%v): %w", conn, err)
	t.Logf("error: %v", err)
	if want := "with " + conn.SASL.Mechanism + " (user " + conn.SASL.Username + ")"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if real && !strings.Contains(err.Error(), "SASL_AUTHENTICATION_FAILED") {
		t.Errorf("error %q does not say the authentication failed", err)
	}
	for _, s := range []string{wrong, right} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q shows a password", err)
		}
	}
}
