package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/internal/devenv"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/pipeline"
)

const brokerPassword = "br0ker-Pa55word"

// TestSecuredBroker: the reference pipelines run on a broker that requires
// SASL/SCRAM, TLS or both — goka's sarama clients, the lag reader and topic
// administration all connect through kafkaconn — and the registry keeps its
// schemas on that broker too. No log line shows the password.
func TestSecuredBroker(t *testing.T) {
	for _, c := range []struct {
		name string
		tls  bool
		mech string
	}{
		{"SASL_PLAINTEXT SCRAM-SHA-512", false, kafkaconn.ScramSHA512},
		{"SSL", true, ""},
		{"SASL_SSL SCRAM-SHA-256", true, kafkaconn.ScramSHA256},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s kafkaconn.SASL
			if c.mech != "" {
				s = kafkaconn.SASL{Mechanism: c.mech, Username: "sluice", Password: brokerPassword}
			}
			conn := testkit.SecureBroker(t, c.tls, s)
			env, err := devenv.Start(t.Context(), devenv.Config{Brokers: conn.Brokers, TLS: conn.TLS, SASL: conn.SASL, RegistryAddr: "127.0.0.1:0"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = env.Close() })
			cfg, names := referenceConfigConn(t, conn, env.RegistryURL())
			testkit.CreateTopicWith(t, conn, names.input, 3)
			v1, v2 := userEventCodecs(t, env.RegistryURL(), names.input)

			const n = 300
			events := demo.GenerateEvents(testkit.Seed(t), n, 20, 0.03)
			records, err := demo.Records(names.input, events, v1, v2, 999999)
			if err != nil {
				t.Fatal(err)
			}
			cl, err := conn.NewClient()
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
				t.Fatalf("producing: %v", err)
			}

			var logs testkit.LogBuffer
			rt, stop := startRuntime(t, cfg, pipeline.Options{Logger: logs.Logger()})
			defer stop()
			us := waitConsumed(t, rt, names.stats, n, 2*time.Minute)
			bp := waitConsumed(t, rt, names.big, n, 2*time.Minute)
			counts := testkit.CountEvents(events)
			if us.DeadLettered != int64(counts.Poison+counts.Negative) || us.Filtered != int64(counts.Heartbeat) || bp.Processed != int64(counts.Big) {
				t.Errorf("counts user-stats %+v, big-purchases %+v; want %+v", us, bp, counts)
			}
			testkit.EventuallyValue(t, time.Minute, "the lag of user-stats to be read", func() (string, bool) {
				for _, st := range rt.Status(ctx) {
					if st.Name == names.stats && st.LagError == "" && len(st.LagPartitions) > 0 {
						return "read", true
					}
				}
				return "not yet", false
			})
			if strings.Contains(logs.String(), brokerPassword) {
				t.Errorf("the logs show the password:\n%s", logs.String())
			}
		})
	}
}

// TestWrongBrokerPassword: a wrong password stops Run at once with an error
// that names the user and the mechanism but not the password.
func TestWrongBrokerPassword(t *testing.T) {
	conn := testkit.SecureBroker(t, true, kafkaconn.SASL{Mechanism: kafkaconn.ScramSHA512, Username: "sluice", Password: brokerPassword})
	const wrong = "wr0ng-Pa55word"
	conn.SASL.Password = wrong
	cfg, _ := referenceConfigConn(t, conn, "http://127.0.0.1:1")
	var logs testkit.LogBuffer
	rt, err := pipeline.New(cfg, pipeline.Options{Logger: logs.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = rt.Run(ctx)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("Run: %v (context %v)", err, ctx.Err())
	}
	for _, want := range []string{"connecting to Kafka", "SASL_SSL", "SCRAM-SHA-512 (user sluice)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	for _, s := range []string{wrong, brokerPassword} {
		if strings.Contains(err.Error()+logs.String(), s) {
			t.Errorf("error or logs show a password: %v\n%s", err, logs.String())
		}
	}
}
