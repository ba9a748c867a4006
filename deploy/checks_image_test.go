package deploy_test

import (
	"path"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
)

// checkImage: the Dockerfile builds ./cmd/sluice, runs that binary, and puts
// pipelines.yaml and schemas/ where the compose command's -f points (schema
// paths in pipelines.yaml are relative to the file's folder).
func checkImage(d *deployment, r *report) {
	if d.docker == nil {
		return
	}
	where := d.dockerfilePath
	in := func(name string) string { return path.Join(d.context, name) }
	final := d.docker.final()

	buildStage, pkg, out, line, ok := d.docker.goBuild()
	switch {
	case !ok:
		r.addf(where, "no RUN does `go build`: the image has no sluice binary")
	case pkg != "./cmd/sluice":
		r.addf(where, "line %d: go build builds %q, want ./cmd/sluice (the stock binary)", line, pkg)
	case !d.p.exists(in("cmd/sluice")):
		r.addf(where, "line %d: go build ./cmd/sluice, but %s does not exist", line, in("cmd/sluice"))
	}
	binary := ""
	if ok && buildStage != final {
		for _, c := range final.copies() {
			if from := d.docker.stage(c.from); from == buildStage && slices.Contains(c.sources, out) {
				binary = c.target(out, false)
			}
		}
		if binary == "" {
			r.addf(where, "the final stage copies no %s from the build stage %q", out, buildStage.name)
		}
	} else if ok {
		binary = out
	}
	if ep, ok := final.last("ENTRYPOINT"); !ok {
		r.addf(where, "no ENTRYPOINT: the compose command %q would be run as a program", d.sluiceArgs)
	} else if argv, ok := execForm(ep.args); !ok || len(argv) == 0 {
		r.addf(where, "line %d: ENTRYPOINT %s is not in exec form: the compose command would be ignored", ep.line, ep.args)
	} else if binary != "" && argv[0] != binary {
		r.addf(where, "line %d: ENTRYPOINT runs %s but the built binary is copied to %s", ep.line, argv[0], binary)
	}
	if s := d.compose.Services[svcSluice]; s != nil && s.Entrypoint != nil {
		r.addf(inService(svcSluice), "overrides the entrypoint (%v): the checks expect the image's sluice binary", s.Entrypoint)
	}

	if d.pipelinesFile == "" {
		return
	}
	fileDir := path.Dir(d.pipelinesFile)
	wantCopies := map[string]string{"pipelines.yaml": d.pipelinesFile, "schemas": path.Join(fileDir, "schemas")}
	for _, src := range sortedKeys(wantCopies) {
		want := wantCopies[src]
		var got []string
		for _, c := range final.copies() {
			for _, s := range c.sources {
				if c.from == "" && path.Clean(s) == src {
					got = append(got, c.target(s, d.p.isDir(in(src))))
				}
			}
		}
		switch {
		case len(got) == 0:
			r.addf(where, "the final stage does not COPY %s; %s's command reads %s", src, svcSluice, want)
		case !slices.Contains(got, want):
			r.addf(where, "COPY %s puts it at %s, but %s service %s's command -f %s needs it at %s",
				src, strings.Join(got, ", "), composePath, svcSluice, d.pipelinesFile, want)
		}
		if !d.p.exists(in(src)) {
			r.addf(where, "COPY %s: %s does not exist in the build context", src, in(src))
		}
		if ignored, pattern := d.dockerIgnored(src); ignored {
			r.addf(path.Join(d.context, dockerignore), "pattern %q excludes %s, which the Dockerfile copies", pattern, src)
		}
	}
	checkSchemaRefs(d, r)
	checkMounts(d, wantCopies, r)
}

// checkSchemaRefs: every schema pipelines.yaml names is inside schemas/, the
// only folder the image carries next to the file.
func checkSchemaRefs(d *deployment, r *report) {
	name := path.Join(d.context, "pipelines.yaml")
	text, err := d.p.read(name)
	if err != nil {
		r.addf(name, "%v", err)
		return
	}
	var doc any
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		r.addf(name, "decoding: %v", err)
		return
	}
	for _, ref := range schemaRefs(doc) {
		clean := path.Clean(ref)
		if path.IsAbs(ref) || !strings.HasPrefix(clean, "schemas/") {
			r.addf(name, "schema %q is outside schemas/: the image copies only pipelines.yaml and schemas/", ref)
		} else if !d.p.exists(path.Join(d.context, clean)) {
			r.addf(name, "schema %q does not exist", ref)
		}
	}
}

func schemaRefs(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			if s, ok := v[k].(string); ok && k == "schema" {
				out = append(out, s)
			} else {
				out = append(out, schemaRefs(v[k])...)
			}
		}
	case []any:
		for _, x := range v {
			out = append(out, schemaRefs(x)...)
		}
	}
	return out
}

// checkMounts: compose bind mounts over the image's files come from the same
// repository files, and the --state-dir is on a volume.
func checkMounts(d *deployment, wantCopies map[string]string, r *report) {
	s := d.compose.Services[svcSluice]
	if s == nil {
		return
	}
	mounts := s.mounts()
	for _, src := range sortedKeys(wantCopies) {
		for _, m := range mounts {
			if m.target == wantCopies[src] && (!m.bind || path.Clean(m.source) != path.Join(d.context, src)) {
				r.addf(inService(svcSluice), "volume %s:%s hides the image's %s with something else than ./%s", m.source, m.target, m.target, src)
			}
		}
	}
	stateDir := flagValue(d.sluiceArgs, "--state-dir")
	if stateDir == "" {
		return
	}
	onVolume := slices.Contains(d.docker.final().volumes(), path.Clean(stateDir))
	for _, m := range mounts {
		onVolume = onVolume || m.target == path.Clean(stateDir)
	}
	if !onVolume {
		r.addf(inService(svcSluice), "--state-dir %s is neither a volume of the service nor a VOLUME of %s: tables would be lost with the container", stateDir, d.dockerfilePath)
	}
}

// dockerIgnored applies .dockerignore to a path: the last matching pattern
// wins, a pattern excludes what is under a matching folder too.
func (d *deployment) dockerIgnored(name string) (bool, string) {
	text, err := d.p.read(path.Join(d.context, dockerignore))
	if err != nil {
		return false, ""
	}
	ignored, by := false, ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		neg := strings.HasPrefix(line, "!")
		pattern := path.Clean(strings.TrimPrefix(strings.TrimPrefix(line, "!"), "/"))
		for p := name; p != "." && p != "/"; p = path.Dir(p) {
			if ok, _ := path.Match(pattern, p); ok {
				ignored, by = !neg, line
				break
			}
		}
	}
	return ignored, by
}
