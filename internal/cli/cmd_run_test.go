package cli

import (
	"errors"
	"testing"
)

func TestInstanceID(t *testing.T) {
	host := func() (string, error) { return "sluice-2", nil }
	noHost := func() (string, error) { return "", errors.New("no uts namespace") }
	for _, c := range []struct {
		name, flag, env string
		fromHost        bool
		hostname        func() (string, error)
		id, from        string
		err             bool
	}{
		{name: "dynamic by default", hostname: host},
		{name: "flag", flag: "a", env: "b", fromHost: true, hostname: host, id: "a", from: "--instance-id"},
		{name: "environment", env: "b", fromHost: true, hostname: host, id: "b", from: "$SLUICE_INSTANCE_ID"},
		{name: "host name only when asked", fromHost: true, hostname: host, id: "sluice-2", from: "the host name"},
		{name: "host name unknown", fromHost: true, hostname: noHost, err: true},
		{name: "host name empty", fromHost: true, hostname: func() (string, error) { return "", nil }, err: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, from, err := instanceID(c.flag, c.env, c.fromHost, c.hostname)
			if (err != nil) != c.err || id != c.id || from != c.from {
				t.Errorf("instanceID(%q, %q, %v) = %q, %q, %v; want %q, %q, error %v", c.flag, c.env, c.fromHost, id, from, err, c.id, c.from, c.err)
			}
		})
	}
}

func TestRunRejectsABadInstanceID(t *testing.T) {
	r := runOffline(t, map[string]string{"SLUICE_INSTANCE_ID": "no spaces allowed"}, "run", "-f", referencePipelines)
	if r.code != ExitUsage {
		t.Errorf("exit %d, want %d (usage); stderr:\n%s", r.code, ExitUsage, r.stderr)
	}
}
