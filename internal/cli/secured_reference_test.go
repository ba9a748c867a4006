package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/testkit"
)

// theKafkaSecret is the SASL password of TestReferencePipelinesOnSecuredCluster;
// like theSecret (the registry's), it must never be printed.
const theKafkaSecret = "k4fka-Pa55"

// TestReferencePipelinesOnSecuredCluster is issue 15's "done when": a user
// of a Confluent Cloud-style cluster — SASL_SSL brokers (SCRAM-SHA-512 over
// TLS with a private CA) and a schema registry that requires basic auth —
// runs the repository's pipelines.yaml, unchanged, by setting environment
// variables only. produce writes the reference events with the same
// variables; the state and outputs of user-stats and big-purchases are
// testkit's oracle's. No password shows in what the commands print or in
// /pipelines, /readyz and /metrics.
func TestReferencePipelinesOnSecuredCluster(t *testing.T) {
	// The cluster is the test's own, whatever the run's real one is.
	for _, v := range []string{testkit.TLSVar, testkit.TLSCAFileVar, testkit.SASLMechanismVar} {
		t.Setenv(v, "")
	}
	conn := testkit.SecureBroker(t, true, kafkaconn.SASL{Mechanism: kafkaconn.ScramSHA512, Username: "sluice", Password: theKafkaSecret})
	env := map[string]string{
		envBrokers:          strings.Join(conn.Brokers, ","),
		envKafkaTLS:         "true",
		envKafkaCAFile:      conn.TLS.CAFile,
		envSASLMechanism:    "SCRAM-SHA-512",
		envSASLUsername:     "sluice",
		envSASLPassword:     theKafkaSecret,
		envRegistryURL:      authRegistry(t),
		envRegistryUsername: "writer",
		envRegistryPassword: theSecret,
		envLogFormat:        "text",
	}
	var printed []string // everything the commands printed or answered
	show := func(r cliResult) cliResult {
		printed = append(printed, r.stdout, r.stderr)
		return r
	}

	events := demo.GenerateEvents(testkit.Seed(t), 300, 20, 0)
	var lines strings.Builder
	for _, e := range events {
		b, err := json.Marshal(e.Fields())
		if err != nil {
			t.Fatal(err)
		}
		lines.Write(append(b, '\n'))
	}
	testkit.CreateTopicWith(t, conn, "user-topic", 6)
	r := show(cliWith(t, env, lines.String(), "produce", "-f", referencePipelines,
		"--topic", "user-topic", "--schema", userEventSchema, "--key-field", "user_id"))
	if r.code != ExitOK {
		t.Fatalf("produce: exit %d\n%s", r.code, r.stderr)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var runOut, runErr syncBuffer
	runDone := make(chan int, 1)
	go func() {
		runDone <- runWithEnv(ctx, []string{"run", "-f", referencePipelines, "--http-addr", "127.0.0.1:0"},
			strings.NewReader(""), &runOut, &runErr, func(k string) string { return env[k] })
	}()
	addr := testkit.EventuallyValue(t, time.Minute, "run to serve its operations endpoints", func() (string, bool) {
		m := opsAddr.FindStringSubmatch(runErr.String())
		if m == nil {
			return runErr.String(), false
		}
		return m[1], true
	})
	base := "http://" + addr

	want := testkit.ExpectUserStats(events)
	testkit.EventuallyValue(t, 2*time.Minute, "user-stats state to be the oracle's", func() (string, bool) {
		for _, key := range slices.Sorted(maps.Keys(want)) {
			var got testkit.UserStats
			if code, err := getJSON(base+"/pipelines/user-stats/state/"+key, &got); err != nil || code != http.StatusOK || !sameUserStats(got, want[key]) {
				return fmt.Sprintf("%s: %d %v %+v, want %+v", key, code, err, got, want[key]), false
			}
		}
		return "", true
	})

	// The outputs, read back by consume with the same variables.
	testkit.EventuallyValue(t, time.Minute, "user-stats outputs to end on the oracle's state", func() (string, bool) {
		r := show(cliWith(t, env, "", "consume", "--topic", "user-stats", "--from-beginning", "--until-end"))
		last := map[string]testkit.UserStats{}
		for _, rec := range parseRecords(t, r.stdout) {
			var s testkit.UserStats
			if err := json.Unmarshal(rec.Value, &s); err != nil || rec.Key == nil {
				return fmt.Sprintf("output %+v: %v", rec, err), false
			}
			last[*rec.Key] = s
		}
		for key, w := range want {
			if !sameUserStats(last[key], w) {
				return fmt.Sprintf("exit %d, last output of %s %+v, want %+v\n%s", r.code, key, last[key], w, r.stderr), false
			}
		}
		return "", r.code == ExitOK && len(last) == len(want)
	})
	wantBig := testkit.ExpectBigPurchases(events)
	testkit.EventuallyValue(t, time.Minute, "big-purchases outputs to be the oracle's", func() (string, bool) {
		r := show(cliWith(t, env, "", "consume", "--topic", "big-purchases", "--from-beginning", "--until-end"))
		got := map[string][]testkit.BigPurchase{}
		for _, rec := range parseRecords(t, r.stdout) {
			var b testkit.BigPurchase
			if err := json.Unmarshal(rec.Value, &b); err != nil || rec.Key == nil {
				return fmt.Sprintf("output %+v: %v", rec, err), false
			}
			got[*rec.Key] = append(got[*rec.Key], b)
		}
		return fmt.Sprintf("exit %d: %+v, want %+v", r.code, got, wantBig), r.code == ExitOK && sameBigPurchases(got, wantBig)
	})

	t.Logf("%d events: the state and last output of %d users, %d users' big purchases as the oracle says", len(events), len(want), len(wantBig))

	var ready struct {
		Ready bool `json:"ready"`
	}
	if code, err := getJSON(base+"/readyz", &ready); err != nil || code != http.StatusOK || !ready.Ready {
		t.Errorf("/readyz: %d %v %+v, want 200 and ready", code, err, ready)
	}
	for _, path := range []string{"/pipelines", "/readyz", "/metrics"} {
		printed = append(printed, httpGet(t, base+path))
	}
	cancel()
	if code := testkit.Await(t, time.Minute, "run to stop", runDone); code != ExitOK {
		t.Errorf("run exited %d:\n%s", code, runErr.String())
	}
	printed = append(printed, runOut.String(), runErr.String())
	all := strings.Join(printed, "\n")
	for _, secret := range []string{theKafkaSecret, theSecret} {
		if strings.Contains(all, secret) {
			t.Errorf("a command printed the password %s:\n%s", secret, all)
		}
	}
}

// getJSON decodes the body of GET url into v when it answers 200.
func getJSON(url string, v any) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, json.NewDecoder(resp.Body).Decode(v)
}

// sameUserStats compares two states, the total to the cent (it is a sum of
// floats in another order).
func sameUserStats(a, b testkit.UserStats) bool {
	d := a.TotalSpent - b.TotalSpent
	return a.UserID == b.UserID && a.Events == b.Events && a.Purchases == b.Purchases && d < 0.005 && d > -0.005 &&
		a.LastEventType == b.LastEventType && a.LastTS == b.LastTS &&
		((a.LastCountry == nil && b.LastCountry == nil) || (a.LastCountry != nil && b.LastCountry != nil && *a.LastCountry == *b.LastCountry))
}

// sameBigPurchases reports whether got has exactly want's outputs, in
// order per key (one run without failures writes each once).
func sameBigPurchases(got, want map[string][]testkit.BigPurchase) bool {
	return maps.EqualFunc(got, want, func(g, w []testkit.BigPurchase) bool {
		return slices.EqualFunc(g, w, func(a, b testkit.BigPurchase) bool {
			return a.UserID == b.UserID && a.Amount == b.Amount &&
				((a.Country == nil && b.Country == nil) || (a.Country != nil && b.Country != nil && *a.Country == *b.Country))
		})
	})
}
