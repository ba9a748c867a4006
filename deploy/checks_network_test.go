package deploy_test

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// checkKafka: the internal listener is advertised under a name other
// containers resolve, a listener advertised on localhost is published on the
// same host port, the quorum voters and the healthcheck use real listeners.
func checkKafka(d *deployment, r *report) {
	s := d.compose.Services[svcKafka]
	if s == nil || d.kafka.internal == "" {
		return
	}
	where := inService(svcKafka)
	k := d.kafka
	names := s.names(svcKafka)
	in := k.bound[k.internal]
	adv, ok := k.advertised[k.internal]
	switch {
	case !ok:
		r.addf(where, "internal listener %s (%s) is not in KAFKA_ADVERTISED_LISTENERS: clients in the network would be sent elsewhere", k.internal, in.port)
	case !slices.Contains(names, adv.host):
		r.addf(where, "KAFKA_ADVERTISED_LISTENERS advertises the internal listener %s as %s:%s, but other containers reach this service as %s",
			k.internal, adv.host, adv.port, strings.Join(names, " or "))
	case adv.port != in.port:
		r.addf(where, "internal listener %s: KAFKA_LISTENERS port %s but KAFKA_ADVERTISED_LISTENERS port %s", k.internal, in.port, adv.port)
	}

	hosts := k.hostListeners()
	if len(hosts) == 0 {
		r.addf(where, "no listener in KAFKA_ADVERTISED_LISTENERS is advertised on localhost: clients on the host cannot use Kafka")
	}
	for _, h := range hosts {
		bound, ok := k.bound[h.name]
		if !ok {
			r.addf(where, "listener %s is advertised (%s:%s) but not in KAFKA_LISTENERS", h.name, h.host, h.port)
			continue
		}
		if pub := s.publishedFor(bound.port); !slices.Contains(pub, h.port) {
			r.addf(where, "listener %s is advertised as %s:%s but ports publish container port %s on %v: host clients would be redirected to a closed port",
				h.name, h.host, h.port, bound.port, pub)
		}
	}

	env := s.env()
	for _, voter := range strings.Split(env["KAFKA_CONTROLLER_QUORUM_VOTERS"], ",") {
		_, addr, ok := strings.Cut(strings.TrimSpace(voter), "@")
		if !ok {
			continue
		}
		_, host, port, err := hostPort(addr)
		if err != nil || !slices.Contains(names, host) || !slices.ContainsFunc(k.controller, func(n string) bool { return k.bound[n].port == port }) {
			r.addf(where, "KAFKA_CONTROLLER_QUORUM_VOTERS %q: want <id>@%s:<a controller listener's port>", voter, svcKafka)
		}
	}

	checkHealthcheckPorts(s, svcKafka, k.clientPorts(), r)
}

// checkRegistry: the registry stores schemas through the kafka internal
// listener, with that listener's security protocol.
func checkRegistry(d *deployment, r *report) {
	s := d.compose.Services[svcRegistry]
	if s == nil {
		return
	}
	where := inService(svcRegistry)
	bootstrap := s.env()["SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS"]
	if bootstrap == "" {
		r.addf(where, "SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS is not set: the registry has no Kafka to store schemas in")
	}
	if kafka := d.compose.Services[svcKafka]; kafka != nil && d.kafka.internal != "" && bootstrap != "" {
		for _, addr := range strings.Split(bootstrap, ",") {
			scheme, host, port, err := hostPort(addr)
			want := d.kafka.protocol[d.kafka.internal] + "://" + svcKafka + ":" + d.kafka.internalPort()
			if err != nil || !slices.Contains(kafka.names(svcKafka), host) || port != d.kafka.internalPort() ||
				(scheme != "" && scheme != d.kafka.protocol[d.kafka.internal]) {
				r.addf(where, "SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS %q does not point at the kafka internal listener %s (want %s)",
					addr, d.kafka.internal, want)
			}
		}
	}
	if d.registryPort != "" {
		if len(s.publishedFor(d.registryPort)) == 0 {
			r.addf(where, "the registry listens on %s (SCHEMA_REGISTRY_LISTENERS), which ports does not publish", d.registryPort)
		}
		checkHealthcheckPorts(s, svcRegistry, []string{d.registryPort}, r)
	}
}

// checkSluiceEnv: SLUICE_BROKERS and SLUICE_REGISTRY_URL (or the flags that
// override them) point at the kafka internal listener and at the registry.
func checkSluiceEnv(d *deployment, r *report) {
	s := d.compose.Services[svcSluice]
	if s == nil {
		return
	}
	where := inService(svcSluice)
	env := s.env()
	if d.docker != nil {
		for k, v := range d.docker.final().env() {
			if _, set := env[k]; !set {
				env[k] = v // the image's default
			}
		}
	}
	brokers, brokersFrom := env["SLUICE_BROKERS"], "SLUICE_BROKERS"
	if v := flagValue(d.sluiceArgs, "--brokers"); v != "" {
		brokers, brokersFrom = v, "--brokers"
	}
	if kafka := d.compose.Services[svcKafka]; kafka != nil && d.kafka.internal != "" {
		names := kafka.names(svcKafka)
		if brokers == "" {
			r.addf(where, "neither SLUICE_BROKERS nor --brokers is set: sluice would use pipelines.yaml's default, not the kafka service")
		}
		for _, addr := range strings.Split(brokers, ",") {
			if brokers == "" {
				break
			}
			_, host, port, err := hostPort(addr)
			if err != nil || !slices.Contains(names, host) || port != d.kafka.internalPort() {
				r.addf(where, "%s %q does not point at the kafka internal listener %s: want %s:%s",
					brokersFrom, addr, d.kafka.internal, svcKafka, d.kafka.internalPort())
			}
		}
	}

	reg, regFrom := env["SLUICE_REGISTRY_URL"], "SLUICE_REGISTRY_URL"
	if v := flagValue(d.sluiceArgs, "--registry"); v != "" {
		reg, regFrom = v, "--registry"
	}
	if registry := d.compose.Services[svcRegistry]; registry != nil && d.registryPort != "" {
		want := d.registryScheme + "://" + svcRegistry + ":" + d.registryPort
		u, err := url.Parse(reg)
		switch {
		case reg == "":
			r.addf(where, "neither SLUICE_REGISTRY_URL nor --registry is set: want %s", want)
		case err != nil || u.Scheme != d.registryScheme || !slices.Contains(registry.names(svcRegistry), u.Hostname()) || u.Port() != d.registryPort:
			r.addf(where, "%s %q does not point at the schema-registry service's listener (SCHEMA_REGISTRY_LISTENERS port %s): want %s",
				regFrom, reg, d.registryPort, want)
		}
	}

	// The image's own defaults must agree with the compose file it is made for.
	if d.docker != nil {
		img := d.docker.final().env()
		compose := s.env()
		for _, k := range []string{"SLUICE_BROKERS", "SLUICE_REGISTRY_URL"} {
			if img[k] != "" && compose[k] != "" && img[k] != compose[k] {
				r.addf(d.dockerfilePath, "ENV %s=%s disagrees with %s service %s's %s=%s", k, img[k], composePath, svcSluice, k, compose[k])
			}
		}
	}
}

// checkDependsOn: every dependency exists, service_healthy waits only for
// services that have a healthcheck, and sluice and the registry wait for
// what they connect to at start.
func checkDependsOn(d *deployment, r *report) {
	for _, name := range sortedKeys(d.compose.Services) {
		deps := d.compose.Services[name].dependsOn()
		for _, dep := range sortedKeys(deps) {
			target := d.compose.Services[dep]
			switch {
			case target == nil:
				r.addf(inService(name), "depends_on %q: no such service", dep)
			case deps[dep] == "service_healthy" && !d.hasHealthcheck(dep):
				r.addf(inService(name), "depends_on %s with condition service_healthy, but service %s has no healthcheck: it would never become healthy", dep, dep)
			}
		}
	}
	need := map[string][]string{svcSluice: {svcKafka, svcRegistry}, svcRegistry: {svcKafka}}
	for _, name := range sortedKeys(need) {
		s := d.compose.Services[name]
		if s == nil {
			continue
		}
		deps := s.dependsOn()
		for _, dep := range need[name] {
			if d.compose.Services[dep] != nil && deps[dep] != "service_healthy" {
				r.addf(inService(name), "connects to %s at start but depends_on has %q for it (want condition: service_healthy)", dep, deps[dep])
			}
		}
	}
}

// hasHealthcheck: in the compose file, or in the Dockerfile of a built service.
func (d *deployment) hasHealthcheck(service string) bool {
	s := d.compose.Services[service]
	if s.Healthcheck != nil {
		return s.healthTest() != nil
	}
	if service == svcSluice && d.docker != nil {
		_, ok := d.docker.final().last("HEALTHCHECK")
		return ok
	}
	return false
}

var (
	urlRe  = regexp.MustCompile(`^[a-z]+://([^/:\s]+)(?::(\d+))?(/\S*)?$`)
	addrRe = regexp.MustCompile(`^([A-Za-z0-9.-]+):(\d+)$`)
)

// healthAddrs returns the host, port and path of every URL or host:port in
// a healthcheck command.
func healthAddrs(words []string) (out [][3]string) {
	for _, w := range words {
		if m := urlRe.FindStringSubmatch(w); m != nil {
			out = append(out, [3]string{m[1], m[2], m[3]})
		} else if m := addrRe.FindStringSubmatch(w); m != nil {
			out = append(out, [3]string{m[1], m[2], ""})
		}
	}
	return out
}

// checkHealthcheckPorts: the service's healthcheck probes one of the ports
// the service listens on, on its own loopback.
func checkHealthcheckPorts(s *composeService, name string, ports []string, r *report) {
	words := s.healthTest()
	if words == nil {
		return
	}
	addrs := healthAddrs(words)
	if len(addrs) == 0 {
		r.addf(inService(name), "healthcheck %q probes no address the checks can read", words)
	}
	for _, a := range addrs {
		if !isLoopback(a[0]) || !slices.Contains(ports, a[1]) {
			r.addf(inService(name), "healthcheck probes %s:%s, but the service listens on port %s", a[0], a[1], strings.Join(ports, ", "))
		}
	}
}
