package deploy_test

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"slices"
	"strings"
)

// deployment is what the checks derive from the files, computed once. A
// fact left empty was reported as a problem where it was derived; the checks
// that need it skip it.
type deployment struct {
	p       *project
	compose *composeFile

	// The sluice image: the Dockerfile (nil if sluice is not built from one
	// that exists) and its build context, relative to the repository root.
	docker         *dockerfile
	dockerfilePath string
	context        string

	kafka kafkaListeners

	registryScheme, registryPort string

	sluiceArgs    []string // the compose command of sluice
	pipelinesFile string   // its -f, inside the container
	httpHost      string   // its --http-addr
	httpPort      string

	prometheusPort string
}

// listener is one entry of KAFKA_LISTENERS or KAFKA_ADVERTISED_LISTENERS.
type listener struct {
	name, host, port string
}

type kafkaListeners struct {
	bound      map[string]listener // KAFKA_LISTENERS
	advertised map[string]listener // KAFKA_ADVERTISED_LISTENERS
	protocol   map[string]string   // listener name -> security protocol
	internal   string              // the inter-broker listener: what containers use
	controller []string            // KAFKA_CONTROLLER_LISTENER_NAMES
}

// internalPort is the port of the internal listener, "" if unknown.
func (k kafkaListeners) internalPort() string {
	return k.bound[k.internal].port
}

// hostListeners are the listeners advertised on the host's loopback: what
// clients outside the compose network bootstrap from.
func (k kafkaListeners) hostListeners() []listener {
	var out []listener
	for _, name := range sortedKeys(k.advertised) {
		if l := k.advertised[name]; isLoopback(l.host) {
			out = append(out, l)
		}
	}
	return out
}

// clientPorts are the ports of the listeners that are not controllers.
func (k kafkaListeners) clientPorts() []string {
	var out []string
	for _, name := range sortedKeys(k.bound) {
		if !slices.Contains(k.controller, name) {
			out = append(out, k.bound[name].port)
		}
	}
	return out
}

func analyze(p *project, r *report) (*deployment, error) {
	text, err := p.read(composePath)
	if err != nil {
		return nil, err
	}
	c, err := parseCompose(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", composePath, err)
	}
	d := &deployment{p: p, compose: c}
	for _, name := range []string{svcKafka, svcRegistry, svcSluice, svcPrometheus} {
		if c.Services[name] == nil {
			r.addf(composePath, "service %q is missing (services: %s)", name, strings.Join(sortedKeys(c.Services), ", "))
		}
	}
	if s := c.Services[svcKafka]; s != nil {
		d.kafka = parseKafkaListeners(s, r)
	}
	if s := c.Services[svcRegistry]; s != nil {
		d.registryScheme, d.registryPort = registryListener(s, r)
	}
	if s := c.Services[svcSluice]; s != nil {
		d.analyzeSluice(s, r)
	}
	if s := c.Services[svcPrometheus]; s != nil {
		d.prometheusPort = "9090" // Prometheus's default --web.listen-address
		if addr := flagValue(s.command(), "--web.listen-address"); addr != "" {
			_, d.prometheusPort, _ = net.SplitHostPort(addr)
		}
	}
	return d, nil
}

func (d *deployment) analyzeSluice(s *composeService, r *report) {
	where := inService(svcSluice)
	ctx, file, ok := s.build()
	if !ok {
		r.addf(where, "has no build section: it must be built from the repository's Dockerfile (image %q)", s.Image)
	} else {
		d.context = path.Clean(ctx)
		d.dockerfilePath = path.Join(d.context, file)
		if text, err := d.p.read(d.dockerfilePath); err != nil {
			r.addf(where, "build.dockerfile %s: %v", d.dockerfilePath, err)
		} else {
			d.docker = parseDockerfile(text)
		}
	}
	d.sluiceArgs = s.command()
	if len(d.sluiceArgs) == 0 {
		r.addf(where, "has no command: the checks need the `sluice run` command line it starts")
		return
	}
	d.pipelinesFile = flagValue(d.sluiceArgs, "-f", "--file")
	if d.pipelinesFile == "" {
		r.addf(where, "command %q has no -f: sluice would look for pipelines.yaml in its working directory", d.sluiceArgs)
	}
	addr := flagValue(d.sluiceArgs, "--http-addr")
	if addr == "" {
		r.addf(where, "command %q has no --http-addr: no /metrics, /readyz for Prometheus and the healthcheck", d.sluiceArgs)
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		r.addf(where, "--http-addr %q: %v", addr, err)
		return
	}
	d.httpHost, d.httpPort = host, port
}

func parseKafkaListeners(s *composeService, r *report) kafkaListeners {
	where := inService(svcKafka)
	env := s.env()
	k := kafkaListeners{
		bound:      parseListenerList(env["KAFKA_LISTENERS"], where, "KAFKA_LISTENERS", r),
		advertised: parseListenerList(env["KAFKA_ADVERTISED_LISTENERS"], where, "KAFKA_ADVERTISED_LISTENERS", r),
		protocol:   map[string]string{},
		internal:   env["KAFKA_INTER_BROKER_LISTENER_NAME"],
	}
	if len(k.bound) == 0 {
		r.addf(where, "KAFKA_LISTENERS is not set: the checks cannot tell which ports Kafka listens on")
	}
	if k.internal == "" {
		k.internal = "PLAINTEXT" // Kafka's default inter-broker listener
	}
	for _, n := range strings.Split(env["KAFKA_CONTROLLER_LISTENER_NAMES"], ",") {
		if n = strings.TrimSpace(n); n != "" {
			k.controller = append(k.controller, n)
		}
	}
	for _, pair := range strings.Split(env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"], ",") {
		if name, proto, ok := strings.Cut(strings.TrimSpace(pair), ":"); ok {
			k.protocol[name] = proto
		}
	}
	for name := range k.bound {
		if k.protocol[name] == "" {
			k.protocol[name] = name // without a map entry the name is the protocol
		}
	}
	if _, ok := k.bound[k.internal]; !ok && len(k.bound) > 0 {
		r.addf(where, "the inter-broker listener %q (KAFKA_INTER_BROKER_LISTENER_NAME) is not in KAFKA_LISTENERS %q",
			k.internal, env["KAFKA_LISTENERS"])
		k.internal = ""
	}
	return k
}

func parseListenerList(v, where, variable string, r *report) map[string]listener {
	out := map[string]listener{}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, addr, ok := strings.Cut(item, "://")
		if !ok {
			r.addf(where, "%s entry %q is not NAME://host:port", variable, item)
			continue
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			r.addf(where, "%s entry %q: %v", variable, item, err)
			continue
		}
		out[name] = listener{name: name, host: host, port: port}
	}
	return out
}

// registryListener returns the scheme and port of the registry's first
// listener (Confluent's default is http://0.0.0.0:8081).
func registryListener(s *composeService, r *report) (scheme, port string) {
	v := s.env()["SCHEMA_REGISTRY_LISTENERS"]
	if v == "" {
		return "http", "8081"
	}
	first := strings.TrimSpace(strings.Split(v, ",")[0])
	u, err := url.Parse(first)
	if err != nil || u.Port() == "" {
		r.addf(inService(svcRegistry), "SCHEMA_REGISTRY_LISTENERS %q: want scheme://host:port", v)
		return "", ""
	}
	return u.Scheme, u.Port()
}

// flagValue returns the value of the last of names in args (--x v, --x=v, -f v).
func flagValue(args []string, names ...string) string {
	var v string
	for i, a := range args {
		for _, n := range names {
			if a == n && i+1 < len(args) {
				v = args[i+1]
			} else if val, ok := strings.CutPrefix(a, n+"="); ok {
				v = val
			}
		}
	}
	return v
}

// hostPort splits an address that may carry a scheme (PLAINTEXT://kafka:9092).
func hostPort(addr string) (scheme, host, port string, err error) {
	if s, rest, ok := strings.Cut(addr, "://"); ok {
		scheme, addr = s, rest
	}
	host, port, err = net.SplitHostPort(strings.TrimSpace(addr))
	return scheme, host, port, err
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}
