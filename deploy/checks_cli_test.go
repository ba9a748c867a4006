package deploy_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/sluicehq/sluice"
)

// runCLI runs sluice's own CLI in-process and returns its exit code and output.
func runCLI(ctx context.Context, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := sluice.Run(ctx, args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// checkCommandLine parses args with sluice's CLI without running anything:
// `sluice <args> --help` must exit 0 (cobra rejects unknown flags and bad
// values before it prints help), show the subcommand's usage, and list every
// flag args use.
func checkCommandLine(ctx context.Context, where string, args []string, r *report) {
	call := append(slices.Clone(args), "--help")
	code, out, errOut := runCLI(ctx, call...)
	if code != 0 {
		r.addf(where, "`sluice %s` exits %d: %s", strings.Join(call, " "), code, strings.TrimSpace(errOut))
		return
	}
	var sub []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			break
		}
		sub = append(sub, a)
	}
	if usage := "sluice " + strings.Join(sub, " "); len(sub) == 0 || !strings.Contains(out, "\n  "+usage) {
		r.addf(where, "`sluice %s`: %q is not a sluice subcommand (help shows no %q usage)", strings.Join(call, " "), strings.Join(sub, " "), usage)
		return
	}
	for _, a := range args {
		if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
			continue
		}
		name, _, _ := strings.Cut(a, "=")
		if !regexp.MustCompile(`(^|[\s,])` + regexp.QuoteMeta(name) + `([\s=,]|$)`).MatchString(out) {
			r.addf(where, "flag %s is not in `sluice %s --help`", name, strings.Join(sub, " "))
		}
	}
}

// checkCLI: the compose command and the Dockerfile's CMD parse with sluice's
// CLI, and the pipelines file the image ships validates.
func checkCLI(ctx context.Context, d *deployment, r *report) {
	if len(d.sluiceArgs) > 0 {
		checkCommandLine(ctx, inService(svcSluice)+": command", d.sluiceArgs, r)
		if d.sluiceArgs[0] != "run" {
			r.addf(inService(svcSluice), "command %q does not start with `run`", d.sluiceArgs)
		}
	}
	if d.docker == nil {
		return
	}
	final := d.docker.final()
	if cmd, ok := final.last("CMD"); ok {
		args, ok := execForm(cmd.args)
		if !ok {
			r.addf(d.dockerfilePath, "line %d: CMD %s is not in exec form", cmd.line, cmd.args)
		} else {
			checkCommandLine(ctx, fmt.Sprintf("%s: line %d: CMD", d.dockerfilePath, cmd.line), args, r)
			checkImageDefaults(d, args, r)
		}
	}
	file := path.Join(d.context, "pipelines.yaml")
	if code, _, errOut := runCLI(ctx, "validate", "-f", d.p.abs(file)); code != 0 {
		r.addf(file, "`sluice validate -f %s` exits %d: %s", file, code, strings.TrimSpace(errOut))
	}
}

// checkImageDefaults: the image run without a command (docker run sluice)
// exposes and healthchecks the port its CMD serves on.
func checkImageDefaults(d *deployment, cmd []string, r *report) {
	addr := flagValue(cmd, "--http-addr")
	if addr == "" {
		return
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		r.addf(d.dockerfilePath, "CMD --http-addr %q: %v", addr, err)
		return
	}
	final := d.docker.final()
	if exposed := final.exposed(); !slices.Contains(exposed, port) {
		r.addf(d.dockerfilePath, "EXPOSE %v does not include port %s of CMD's --http-addr %s", exposed, port, addr)
	}
	if hc, ok := final.last("HEALTHCHECK"); ok {
		for _, a := range healthAddrs(shellWords(hc.args)) {
			if a[1] != port || (a[2] != "/readyz" && a[2] != "/healthz") {
				r.addf(d.dockerfilePath, "line %d: HEALTHCHECK probes %s:%s%s, want port %s (CMD's --http-addr) and /readyz or /healthz",
					hc.line, a[0], a[1], a[2], port)
			}
		}
	}
	if d.pipelinesFile != "" {
		if f := flagValue(cmd, "-f", "--file"); f != d.pipelinesFile {
			r.addf(d.dockerfilePath, "CMD -f %s, but %s service %s runs -f %s", f, composePath, svcSluice, d.pipelinesFile)
		}
	}
}
