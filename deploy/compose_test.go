package deploy_test

import (
	"context"
	"strings"
	"testing"
)

// repoRoot is the repository root seen from this package's folder.
const repoRoot = ".."

// check runs every check on the project and returns the problems found.
func check(ctx context.Context, p *project) (*report, error) {
	r := &report{}
	d, err := analyze(p, r)
	if err != nil {
		return nil, err
	}
	checkKafka(d, r)
	checkRegistry(d, r)
	checkSluiceEnv(d, r)
	checkDependsOn(d, r)
	checkImage(d, r)
	checkCLI(ctx, d, r)
	checkHTTP(d, r)
	checkReadme(ctx, d, r)
	return r, nil
}

// TestDeploymentFilesAgree: docker-compose.yml, the Dockerfile,
// deploy/prometheus.yml, scripts/kafka.sh and the README's "Run on real
// Kafka" section agree with each other and with sluice's CLI. Docker is not
// needed: CI cannot run compose, so this is what keeps the files honest.
func TestDeploymentFilesAgree(t *testing.T) {
	r, err := check(t.Context(), &project{root: repoRoot})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range r.problems {
		t.Error(p)
	}
}

// TestChecksCatchMistakes breaks one thing at a time in a copy of the files
// and expects the checks to name it: a check that cannot fail proves nothing.
func TestChecksCatchMistakes(t *testing.T) {
	cases := []struct {
		name, file, old, new string
		want                 string // a problem must contain this
	}{
		{"brokers port", composePath, "SLUICE_BROKERS: kafka:9092", "SLUICE_BROKERS: kafka:29092",
			`SLUICE_BROKERS "kafka:29092" does not point at the kafka internal listener PLAINTEXT: want kafka:9092`},
		{"brokers host", composePath, "SLUICE_BROKERS: kafka:9092", "SLUICE_BROKERS: localhost:9092",
			`service sluice: SLUICE_BROKERS "localhost:9092"`},
		{"advertised internal host", composePath, "PLAINTEXT://kafka:9092,HOST", "PLAINTEXT://broker:9092,HOST",
			"advertises the internal listener PLAINTEXT as broker:9092"},
		{"host listener not published", composePath, `"29092:29092"`, `"29093:29092"`,
			"listener HOST is advertised as localhost:29092 but ports publish container port 29092 on [29093]"},
		{"registry url port", composePath, "SLUICE_REGISTRY_URL: http://schema-registry:8081", "SLUICE_REGISTRY_URL: http://schema-registry:8082",
			`SLUICE_REGISTRY_URL "http://schema-registry:8082" does not point at the schema-registry service's listener (SCHEMA_REGISTRY_LISTENERS port 8081)`},
		{"registry listener", composePath, "SCHEMA_REGISTRY_LISTENERS: http://0.0.0.0:8081", "SCHEMA_REGISTRY_LISTENERS: http://0.0.0.0:8085",
			"service schema-registry: healthcheck probes localhost:8081, but the service listens on port 8085"},
		{"kafkastore", composePath, "KAFKASTORE_BOOTSTRAP_SERVERS: PLAINTEXT://kafka:9092", "KAFKASTORE_BOOTSTRAP_SERVERS: PLAINTEXT://kafka:29092",
			`SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS "PLAINTEXT://kafka:29092" does not point at the kafka internal listener`},
		{"no such dockerfile", composePath, "dockerfile: Dockerfile", "dockerfile: Dockerfile.prod",
			"service sluice: build.dockerfile Dockerfile.prod: reading Dockerfile.prod"},
		{"kafka healthcheck port", composePath, "--bootstrap-server localhost:9092", "--bootstrap-server localhost:9094",
			"service kafka: healthcheck probes localhost:9094, but the service listens on port"},
		{"unknown flag", composePath, `"--state-dir"`, `"--state-directory"`,
			"unknown flag: --state-directory"},
		{"bad subcommand", composePath, `command: ["run",`, `command: ["serve",`,
			`unknown command "serve" for "sluice"`},
		{"http port", composePath, `"--http-addr", ":8080"`, `"--http-addr", ":9100"`,
			"job sluice scrapes sluice:8080, but docker-compose.yml service sluice serves on --http-addr port 9100"},
		{"http loopback only", composePath, `"--http-addr", ":8080"`, `"--http-addr", "127.0.0.1:8080"`,
			"--http-addr 127.0.0.1:8080 listens on 127.0.0.1 only"},
		{"healthcheck path", composePath, "http://127.0.0.1:8080/readyz", "http://127.0.0.1:8080/ready",
			"healthcheck probes http://127.0.0.1:8080/ready, want http://127.0.0.1:8080/readyz"},
		{"pipelines path", composePath, `"-f", "/etc/sluice/pipelines.yaml"`, `"-f", "/srv/pipelines.yaml"`,
			"COPY pipelines.yaml puts it at /etc/sluice/pipelines.yaml, but docker-compose.yml service sluice's command -f /srv/pipelines.yaml needs it at /srv/pipelines.yaml"},
		{"healthy without healthcheck", composePath, `test: ["CMD", "curl", "-fsS", "-o", "/dev/null", "http://localhost:8081/subjects"]`, `disable: true`,
			"depends_on schema-registry with condition service_healthy, but service schema-registry has no healthcheck"},
		{"builds another package", "Dockerfile", "./cmd/sluice \\", "./examples/custom-processor \\",
			`go build builds "./examples/custom-processor", want ./cmd/sluice`},
		{"schemas elsewhere", "Dockerfile", "COPY schemas/ /etc/sluice/schemas/", "COPY schemas/ /opt/schemas/",
			"COPY schemas puts it at /opt/schemas, but docker-compose.yml service sluice's command -f /etc/sluice/pipelines.yaml needs it at /etc/sluice/schemas"},
		{"image env", "Dockerfile", "ENV SLUICE_BROKERS=kafka:9092", "ENV SLUICE_BROKERS=kafka:9093",
			"ENV SLUICE_BROKERS=kafka:9093 disagrees with docker-compose.yml service sluice's SLUICE_BROKERS=kafka:9092"},
		{"dockerignore", dockerignore, ".cache\n", ".cache\nschemas\n",
			`pattern "schemas" excludes schemas`},
		{"prometheus target", prometheusPath, `"sluice:8080"`, `"sluice:9100"`,
			"job sluice scrapes sluice:9100, but docker-compose.yml service sluice serves on --http-addr port 8080"},
		{"prometheus path", prometheusPath, "metrics_path: /metrics", "metrics_path: /prometheus",
			"job sluice scrapes sluice:8080/prometheus, but sluice serves its metrics at /metrics"},
		{"readme kafka.sh port", readmePath, "127.0.0.1:19092", "127.0.0.1:39092",
			"mentions 127.0.0.1:39092, but `scripts/kafka.sh start` serves 127.0.0.1:19092 by default"},
		{"kafka.sh default port", kafkaShPath, "port=19092", "port=19192",
			"mentions 127.0.0.1:19092, but `scripts/kafka.sh start` serves 127.0.0.1:19192 by default"},
		{"readme prometheus port", readmePath, "localhost:9090", "localhost:9091",
			"does not mention localhost:9090, where docker-compose.yml publishes Prometheus (service prometheus)"},
		{"readme compose up", readmePath, "docker compose up", "docker compose start",
			"does not show `docker compose up`"},
		{"readme interop run", readmePath, "-run Interop", "-run Interopp",
			"-run Interopp matches no test built with -tags interop in ./internal/e2e"},
		{"readme sluice flag", readmePath, "--from-beginning", "--from-start",
			"unknown flag: --from-start"},
	}
	base := &project{root: repoRoot}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text, err := base.read(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text, tc.old) {
				t.Fatalf("%s no longer contains %q: update this case", tc.file, tc.old)
			}
			p := &project{root: repoRoot, texts: map[string]string{tc.file: strings.ReplaceAll(text, tc.old, tc.new)}}
			r, err := check(t.Context(), p)
			if err != nil {
				t.Fatal(err)
			}
			for _, problem := range r.problems {
				if strings.Contains(problem, tc.want) {
					t.Logf("problems found:\n%s", r)
					return
				}
			}
			t.Errorf("replacing %q by %q in %s: no problem contains %q; problems:\n%s", tc.old, tc.new, tc.file, tc.want, r)
		})
	}
}
