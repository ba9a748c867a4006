// Package deploy holds the deployment files' checks.
//
// Its tests read docker-compose.yml, the Dockerfile, deploy/prometheus.yml
// and the README's "Run on real Kafka" section, and check the facts that
// `docker compose up` depends on, without Docker: the services exist, the
// image runs the stock binary, every sluice command line parses with
// sluice's own CLI, and the addresses and ports agree.
package deploy
