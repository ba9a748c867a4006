// Package deploy holds the deployment files' checks.
//
// Its tests read docker-compose.yml, the Dockerfile, deploy/prometheus.yml,
// the alert rules (deploy/alerts.yml), the Grafana provisioning and dashboard
// (deploy/grafana/), the list of metrics (deploy/metrics.txt) and the README,
// and check the facts that `docker compose up` and an operator depend on,
// without Docker: the services exist, the image runs the stock binary, every
// sluice command line parses with sluice's own CLI, the addresses and ports
// agree, the dashboard and the alerts query only listed metrics and labels,
// /metrics exports nothing unlisted, the README describes every metric, panel
// and alert, and its custom-binary example compiles as printed.
package deploy
