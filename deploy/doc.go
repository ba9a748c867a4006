// Package deploy holds the deployment files' checks.
//
// Its tests read docker-compose.yml, the Dockerfile, deploy/prometheus.yml,
// scripts/kafka.sh and the README's "Run on real Kafka" section, and check
// that they agree with each other and with sluice's own CLI, without Docker.
package deploy
