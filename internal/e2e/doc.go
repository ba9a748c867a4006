// Package e2e holds process-level tests: they build the sluice binary and run
// it as users do — `sluice dev --no-pipelines` for the services, `sluice run`
// for the pipelines — killing and restarting processes to prove what the
// README promises about failures.
package e2e
