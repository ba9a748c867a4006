package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/sluicehq/sluice/schemas"
)

// kstreamsJar returns the Kafka Streams contestant's jar: -kstreams-jar,
// or else bench/kstreams built with Maven ($MVN, default mvn) once per run.
func (h *harness) kstreamsJar(ctx context.Context) (string, error) {
	if h.o.kstreams != "" {
		return h.o.kstreams, nil
	}
	if h.kstreamsBuilt != "" {
		return h.kstreamsBuilt, nil
	}
	mvn := os.Getenv("MVN")
	if mvn == "" {
		mvn = "mvn"
	}
	dir := filepath.Join(h.repo, "bench", "kstreams")
	h.log("building the Kafka Streams contestant: %s -q -B package in %s", mvn, dir)
	build := exec.CommandContext(ctx, mvn, "-q", "-B", "package")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building bench/kstreams with Maven (%s): %w\n%s", mvn, err, tail(string(out), 3000))
	}
	h.kstreamsBuilt = filepath.Join(dir, "target", "sluice-bench-kstreams.jar")
	return h.kstreamsBuilt, nil
}

// startKStreams starts the Kafka Streams contestant on topics t, its
// RocksDB stores under state.
func (h *harness) startKStreams(ctx context.Context, t topics, state string) (*child, error) {
	jar, err := h.kstreamsJar(ctx)
	if err != nil {
		return nil, err
	}
	event, err := schemas.ReadFile(schemas.UserEventFile)
	if err != nil {
		return nil, err
	}
	stats, err := schemas.ReadFile(schemas.UserStatsFile)
	if err != nil {
		return nil, err
	}
	java := "java"
	if home := os.Getenv("JAVA_HOME"); home != "" {
		java = filepath.Join(home, "bin", "java")
	}
	return startChild(cKStreams, java, []string{"-Xmx1g", "-jar", jar,
		joinList(h.brokers), h.env.RegistryURL(), t.input, t.output, t.dlq, t.group, state, string(event), string(stats)}, nil)
}
