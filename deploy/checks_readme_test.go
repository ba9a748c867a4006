package deploy_test

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

const readmeSection = "## Run on real Kafka"

// readmeWhere names the section in problems.
var readmeWhere = fmt.Sprintf("%s: section %q", readmePath, strings.TrimPrefix(readmeSection, "## "))

// section returns the README section's text, up to the next "## " heading.
func section(text string) (string, bool) {
	lines := strings.Split(text, "\n")
	start := slices.Index(lines, readmeSection)
	if start < 0 {
		return "", false
	}
	end := len(lines)
	for i := start + 1; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "## ") {
			end = i
			break
		}
	}
	return strings.Join(lines[start:end], "\n"), true
}

// commands returns the shell commands of the section's code blocks, split
// at pipes, && and ;, without leading VAR=value assignments.
func commands(sec string) [][]string {
	var (
		out     [][]string
		inCode  bool
		pending string
	)
	for _, line := range strings.Split(sec, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inCode = !inCode
			continue
		}
		if !inCode {
			continue
		}
		if cont, ok := strings.CutSuffix(strings.TrimRight(line, " "), "\\"); ok {
			pending += cont + " "
			continue
		}
		line, pending = pending+line, ""
		var cur []string
		flush := func() {
			for len(cur) > 0 && assignment.MatchString(cur[0]) {
				cur = cur[1:]
			}
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
		}
		for _, w := range shellWords(line) {
			if w == "|" || w == "&&" || w == "||" || w == ";" {
				flush()
				continue
			}
			cur = append(cur, w)
		}
		flush()
	}
	return out
}

// mentions returns the distinct matches of re in text, first one first.
func mentions(re *regexp.Regexp, text string) [][]string {
	var out [][]string
	seen := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		if !seen[m[0]] {
			seen[m[0]] = true
			out = append(out, m)
		}
	}
	return out
}

var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// checkReadme: the section tells the truth about the compose file's ports,
// scripts/kafka.sh's address, the interop test and sluice's CLI.
func checkReadme(ctx context.Context, d *deployment, r *report) {
	text, err := d.p.read(readmePath)
	if err != nil {
		r.addf(readmePath, "%v", err)
		return
	}
	sec, ok := section(text)
	if !ok {
		r.addf(readmePath, "no %q section", readmeSection)
		return
	}
	cmds := commands(sec)
	if !strings.Contains(sec, "docker compose up") {
		r.addf(readmeWhere, "does not show `docker compose up`")
	}
	checkReadmeCompose(d, sec, r)
	checkReadmeKafkaSh(d, sec, cmds, r)
	checkReadmeGoTest(d, sec, cmds, r)
	checkReadmeSluice(ctx, cmds, r)
}

// checkReadmeCompose: every host port compose publishes is mentioned as
// localhost:<port>, and every localhost:<port> or <service>:<port> the
// section mentions is one the compose file serves.
func checkReadmeCompose(d *deployment, sec string, r *report) {
	type hostPort struct{ service, what, port string }
	var want []hostPort
	if s := d.compose.Services[svcKafka]; s != nil {
		for _, l := range d.kafka.hostListeners() {
			want = append(want, hostPort{svcKafka, "the Kafka host listener " + l.name, l.port})
		}
	}
	inner := map[string][]string{svcKafka: d.kafka.clientPorts()}
	for _, x := range []struct{ svc, what, port string }{
		{svcRegistry, "the schema registry", d.registryPort},
		{svcSluice, "sluice's --http-addr", d.httpPort},
		{svcPrometheus, "Prometheus", d.prometheusPort},
	} {
		s := d.compose.Services[x.svc]
		if s == nil || x.port == "" {
			continue
		}
		inner[x.svc] = []string{x.port}
		for _, p := range s.publishedFor(x.port) {
			want = append(want, hostPort{x.svc, x.what, p})
		}
	}
	var published []string
	for _, w := range want {
		published = append(published, w.port)
		if !strings.Contains(sec, "localhost:"+w.port) {
			r.addf(readmeWhere, "does not mention localhost:%s, where %s publishes %s (service %s)", w.port, composePath, w.what, w.service)
		}
	}
	for _, m := range mentions(regexp.MustCompile(`localhost:(\d+)`), sec) {
		if !slices.Contains(published, m[1]) {
			r.addf(readmeWhere, "mentions %s, but %s publishes no such host port (it publishes %s)", m[0], composePath, strings.Join(published, ", "))
		}
	}
	for _, svc := range sortedKeys(inner) {
		s := d.compose.Services[svc]
		if s == nil {
			continue
		}
		for _, name := range s.names(svc) {
			re := regexp.MustCompile(`(^|[^\w.-])` + regexp.QuoteMeta(name) + `:(\d+)`)
			for _, m := range mentions(re, sec) {
				if !slices.Contains(inner[svc], m[2]) {
					r.addf(readmeWhere, "mentions %s:%s, but service %s listens on %s in %s", name, m[2], svc, strings.Join(inner[svc], ", "), composePath)
				}
			}
		}
	}
}

var (
	startBody     = regexp.MustCompile(`(?s)\ncmd_start\(\) \{\n(.*?)\n\}\n`)
	bootstrapBody = regexp.MustCompile(`(?s)\nbootstrap_list\(\) \{\n(.*?)\n\}\n`)
	mainBody      = regexp.MustCompile(`(?s)\nmain\(\) \{\n(.*?)\n\}\n`)
	defaultPort   = regexp.MustCompile(`\bport=(\d+)\b`)
	bootstrapHost = regexp.MustCompile(`([0-9.]+):\$\(\(port`)
	caseLabel     = regexp.MustCompile(`(?m)^\s*([a-z][a-z-]*)\)`)
)

// checkReadmeKafkaSh: the section starts, uses and stops scripts/kafka.sh
// with subcommands and flags it has, and gives the bootstrap address it prints.
func checkReadmeKafkaSh(d *deployment, sec string, cmds [][]string, r *report) {
	script, err := d.p.read(kafkaShPath)
	if err != nil {
		r.addf(kafkaShPath, "%v", err)
		return
	}
	var port int
	if m := startBody.FindStringSubmatch(script); m == nil {
		r.addf(kafkaShPath, "no cmd_start function: the checks cannot read the default port")
	} else if p := defaultPort.FindStringSubmatch(m[1]); p == nil {
		r.addf(kafkaShPath, "cmd_start sets no default port=<n>")
	} else {
		port, _ = strconv.Atoi(p[1])
	}
	host := ""
	if m := bootstrapBody.FindStringSubmatch(script); m != nil {
		if h := bootstrapHost.FindStringSubmatch(m[1]); h != nil {
			host = h[1]
		}
	}
	if host == "" {
		r.addf(kafkaShPath, "bootstrap_list prints no <ip>:$((port...)) address the checks can read")
	}
	var subs []string
	if m := mainBody.FindStringSubmatch(script); m != nil {
		for _, l := range caseLabel.FindAllStringSubmatch(m[1], -1) {
			subs = append(subs, l[1])
		}
	}

	used := map[string]bool{}
	nodes, ports := 1, []int{port}
	for _, c := range cmds {
		if path.Clean(c[0]) != kafkaShPath {
			continue
		}
		if len(c) < 2 || !slices.Contains(subs, c[1]) {
			r.addf(readmeWhere, "`%s`: %s has no such subcommand (it has %s)", strings.Join(c, " "), kafkaShPath, strings.Join(subs, ", "))
			continue
		}
		used[c[1]] = true
		for i, w := range c[2:] {
			if !strings.HasPrefix(w, "--") {
				continue
			}
			if !regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(w) + `\)`).MatchString(script) {
				r.addf(readmeWhere, "`%s`: %s %s has no flag %s", strings.Join(c, " "), kafkaShPath, c[1], w)
			}
			if i+3 < len(c) {
				n, err := strconv.Atoi(c[i+3])
				switch {
				case err != nil:
				case w == "--nodes":
					nodes = max(nodes, n)
				case w == "--port":
					ports = append(ports, n)
				}
			}
		}
	}
	for _, sub := range []string{"install", "start", "stop"} {
		if !used[sub] {
			r.addf(readmeWhere, "does not show `%s %s`", kafkaShPath, sub)
		}
	}
	if !strings.Contains(sec, "SLUICE_TEST_BROKERS") {
		r.addf(readmeWhere, "does not say how tests use the broker (SLUICE_TEST_BROKERS)")
	}
	if host == "" || port == 0 {
		return
	}
	// Node i of a cluster started with --port P serves clients on P+i-1.
	var allowed []string
	for _, p := range ports {
		for i := 0; i < nodes; i++ {
			allowed = append(allowed, strconv.Itoa(p+i))
		}
	}
	re := regexp.MustCompile(regexp.QuoteMeta(host) + `:(\d+)`)
	for _, m := range mentions(re, sec) {
		if !slices.Contains(allowed, m[1]) {
			r.addf(readmeWhere, "mentions %s, but `%s start` serves %s:%d by default (the bootstrap address it prints last)",
				m[0], kafkaShPath, host, port)
		}
	}
	if !strings.Contains(sec, fmt.Sprintf("%s:%d", host, port)) {
		r.addf(readmeWhere, "does not give the bootstrap address `%s start` prints by default, %s:%d", kafkaShPath, host, port)
	}
}

// goTestValueFlags are the go test flags that take a separate value.
var goTestValueFlags = []string{"-run", "-tags", "-count", "-timeout", "-bench", "-cpu", "-parallel", "-p", "-skip", "-coverprofile", "-benchtime"}

// checkReadmeGoTest: the packages of every `go test` exist, and the
// interop command's -tags and -run select a test that uses scripts/python-venv.sh.
func checkReadmeGoTest(d *deployment, sec string, cmds [][]string, r *report) {
	interop := false
	for _, c := range cmds {
		if len(c) < 2 || c[0] != "go" || c[1] != "test" {
			continue
		}
		var tags, run string
		var pkgs []string
		for i := 2; i < len(c); i++ {
			name, val, hasVal := strings.Cut(c[i], "=")
			if !strings.HasPrefix(name, "-") {
				pkgs = append(pkgs, c[i])
				continue
			}
			name = "-" + strings.TrimLeft(name, "-")
			if !hasVal && slices.Contains(goTestValueFlags, name) && i+1 < len(c) {
				val = c[i+1]
				i++
			}
			switch name {
			case "-tags":
				tags = val
			case "-run":
				run = val
			}
		}
		for _, pkg := range pkgs {
			dir := strings.TrimSuffix(strings.TrimSuffix(pkg, "..."), "/")
			if !strings.HasPrefix(dir, ".") || !d.p.isDir(dir) {
				r.addf(readmeWhere, "`%s`: package %s does not exist", strings.Join(c, " "), pkg)
			}
		}
		if !slices.Contains(strings.Split(tags, ","), "interop") {
			continue
		}
		interop = true
		checkInteropCommand(d, c, tags, run, pkgs, r)
	}
	if !interop {
		r.addf(readmeWhere, "shows no `go test -tags interop` command for the Confluent-client interop test")
	}
	if !strings.Contains(sec, venvShPath) {
		r.addf(readmeWhere, "does not mention %s, which the interop test needs", venvShPath)
	}
	if !d.p.exists(venvShPath) {
		r.addf(readmeWhere, "mentions %s, which does not exist", venvShPath)
	}
}

var testFunc = regexp.MustCompile(`(?m)^func (Test\w*)\(t \*testing\.T\)`)

// checkInteropCommand: -run selects a test of a file built only with the
// interop tag, and that test runs scripts/python-venv.sh.
func checkInteropCommand(d *deployment, c []string, tags, run string, pkgs []string, r *report) {
	cmd := strings.Join(c, " ")
	if run == "" {
		r.addf(readmeWhere, "`%s` has no -run: it would run every test of the package", cmd)
		return
	}
	re, err := regexp.Compile(run)
	if err != nil {
		r.addf(readmeWhere, "`%s`: -run %q: %v", cmd, run, err)
		return
	}
	var matched []string
	usesVenv := false
	for _, pkg := range pkgs {
		files, _ := filepath.Glob(filepath.Join(d.p.abs(pkg), "*_test.go"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil || !regexp.MustCompile(`(?m)^//go:build .*\binterop\b`).Match(b) {
				continue
			}
			for _, m := range testFunc.FindAllSubmatch(b, -1) {
				if re.MatchString(string(m[1])) {
					matched = append(matched, string(m[1]))
					usesVenv = usesVenv || strings.Contains(string(b), venvShPath)
				}
			}
		}
	}
	if len(matched) == 0 {
		r.addf(readmeWhere, "`%s`: -run %s matches no test built with -tags %s in %s", cmd, run, tags, strings.Join(pkgs, " "))
	} else if !usesVenv {
		r.addf(readmeWhere, "`%s` runs %s, which does not use %s as the section says", cmd, strings.Join(matched, ", "), venvShPath)
	}
}

var availableCommand = regexp.MustCompile(`(?m)^  ([a-z][a-z-]*)\s`)

// checkReadmeSluice: every sluice command line of the section parses with
// sluice's CLI (go run ./cmd/sluice ..., or sluice ... in a container).
func checkReadmeSluice(ctx context.Context, cmds [][]string, r *report) {
	code, rootHelp, errOut := runCLI(ctx, "--help")
	if code != 0 {
		r.addf(readmeWhere, "`sluice --help` exits %d: %s", code, errOut)
		return
	}
	_, after, _ := strings.Cut(rootHelp, "Available Commands:")
	var subs []string
	for _, m := range availableCommand.FindAllStringSubmatch(after, -1) {
		subs = append(subs, m[1])
	}
	isProgram := func(w string) bool { return w == "sluice" || w == "./cmd/sluice" || strings.HasSuffix(w, "/sluice") }
	for _, c := range cmds {
		for i := 0; i+1 < len(c); i++ {
			if isProgram(c[i]) && slices.Contains(subs, c[i+1]) {
				checkCommandLine(ctx, fmt.Sprintf("%s: `%s`", readmeWhere, strings.Join(c, " ")), c[i+1:], r)
				break
			}
		}
	}
}
