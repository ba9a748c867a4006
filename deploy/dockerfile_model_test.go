package deploy_test

import (
	"encoding/json"
	"path"
	"strconv"
	"strings"
)

// dockerfile is a Dockerfile split into build stages of instructions.
type dockerfile struct {
	stages []*dockerStage
}

type dockerStage struct {
	index  int
	name   string // the FROM ... AS name, if any
	instrs []dockerInstr
}

type dockerInstr struct {
	line    int    // first line of the instruction
	cmd     string // upper case: FROM, RUN, COPY, ...
	args    string // the rest, continuation lines joined
	workdir string // WORKDIR in effect (for relative COPY destinations)
}

// parseDockerfile reads instructions, joining backslash continuations and
// dropping comments and parser directives.
func parseDockerfile(text string) *dockerfile {
	d := &dockerfile{}
	var (
		cur     strings.Builder
		start   int
		workdir = "/"
	)
	flush := func() {
		s := strings.TrimSpace(cur.String())
		cur.Reset()
		if s == "" {
			return
		}
		cmd, args, _ := strings.Cut(s, " ")
		in := dockerInstr{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			st := &dockerStage{index: len(d.stages)}
			if f := strings.Fields(in.args); len(f) >= 3 && strings.EqualFold(f[len(f)-2], "AS") {
				st.name = f[len(f)-1]
			}
			d.stages = append(d.stages, st)
			workdir = "/"
		}
		if len(d.stages) == 0 {
			return // ARG before FROM
		}
		if in.cmd == "WORKDIR" {
			workdir = resolve(workdir, in.args)
		}
		in.workdir = workdir
		st := d.stages[len(d.stages)-1]
		st.instrs = append(st.instrs, in)
	}
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue // comments, also inside continuations, and parser directives
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if cont, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	return d
}

func resolve(dir, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(dir, p)
}

// final is the stage the image is made of.
func (d *dockerfile) final() *dockerStage {
	if len(d.stages) == 0 {
		return &dockerStage{}
	}
	return d.stages[len(d.stages)-1]
}

// stage finds a stage by name or index, as COPY --from names it.
func (d *dockerfile) stage(ref string) *dockerStage {
	for _, s := range d.stages {
		if s.name == ref || strconv.Itoa(s.index) == ref {
			return s
		}
	}
	return nil
}

// all returns the stage's instructions of one kind.
func (s *dockerStage) all(cmd string) []dockerInstr {
	var out []dockerInstr
	for _, in := range s.instrs {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// last returns the stage's last instruction of one kind (the one that counts
// for ENTRYPOINT, CMD, HEALTHCHECK).
func (s *dockerStage) last(cmd string) (dockerInstr, bool) {
	all := s.all(cmd)
	if len(all) == 0 {
		return dockerInstr{}, false
	}
	return all[len(all)-1], true
}

// copyInstr is a parsed COPY: its --from stage, sources and absolute destination.
type copyInstr struct {
	line    int
	from    string
	sources []string
	dest    string // absolute; ends with "/" when the destination is a folder
}

func (s *dockerStage) copies() []copyInstr {
	var out []copyInstr
	for _, in := range s.all("COPY") {
		words := shellWords(in.args)
		c := copyInstr{line: in.line}
		var rest []string
		for _, w := range words {
			if v, ok := strings.CutPrefix(w, "--from="); ok {
				c.from = v
			} else if !strings.HasPrefix(w, "--") {
				rest = append(rest, w)
			}
		}
		if len(rest) < 2 {
			continue
		}
		c.sources = rest[:len(rest)-1]
		dest := rest[len(rest)-1]
		c.dest = resolve(in.workdir, dest)
		if strings.HasSuffix(dest, "/") {
			c.dest += "/"
		}
		out = append(out, c)
	}
	return out
}

// target is where a copied source lands: a folder's contents land in dest,
// a file lands inside dest when dest ends with a slash, else at dest.
func (c copyInstr) target(src string, isDir bool) string {
	if strings.HasSuffix(c.dest, "/") && !isDir {
		return path.Join(c.dest, path.Base(src))
	}
	return strings.TrimSuffix(c.dest, "/")
}

// execForm decodes an ENTRYPOINT or CMD in JSON (exec) form; ok is false for
// the shell form.
func execForm(args string) ([]string, bool) {
	var out []string
	if err := json.Unmarshal([]byte(args), &out); err != nil {
		return nil, false
	}
	return out, true
}

// env returns the ENV variables the stage sets, in both ENV forms.
func (s *dockerStage) env() map[string]string {
	out := map[string]string{}
	for _, in := range s.all("ENV") {
		words := shellWords(in.args)
		if len(words) >= 2 && !strings.Contains(words[0], "=") {
			out[words[0]] = strings.Join(words[1:], " ")
			continue
		}
		for _, w := range words {
			if k, v, ok := strings.Cut(w, "="); ok {
				out[k] = v
			}
		}
	}
	return out
}

// exposed returns the stage's EXPOSEd ports.
func (s *dockerStage) exposed() []string {
	var out []string
	for _, in := range s.all("EXPOSE") {
		for _, p := range strings.Fields(in.args) {
			p, _, _ = strings.Cut(p, "/")
			out = append(out, p)
		}
	}
	return out
}

// volumes returns the stage's VOLUME paths.
func (s *dockerStage) volumes() []string {
	var out []string
	for _, in := range s.all("VOLUME") {
		list, ok := execForm(in.args)
		if !ok {
			list = strings.Fields(in.args)
		}
		for _, v := range list {
			out = append(out, path.Clean(v))
		}
	}
	return out
}

// goBuild finds a `go build` in a RUN of any stage and returns the stage,
// the package built and the -o output.
func (d *dockerfile) goBuild() (st *dockerStage, pkg, out string, line int, ok bool) {
	for _, s := range d.stages {
		for _, in := range s.all("RUN") {
			words := shellWords(in.args)
			for i := 0; i+1 < len(words); i++ {
				if words[i] != "go" || words[i+1] != "build" {
					continue
				}
				for j := i + 2; j < len(words); j++ {
					w := words[j]
					if w == "&&" || w == ";" || w == "||" {
						break
					}
					switch {
					case w == "-o" && j+1 < len(words):
						out = words[j+1]
						j++
					case strings.HasPrefix(w, "-o="):
						out = strings.TrimPrefix(w, "-o=")
					case strings.HasPrefix(w, "-"):
						if !strings.Contains(w, "=") && flagTakesValue(w) {
							j++
						}
					default:
						pkg = w
					}
				}
				return s, pkg, resolve(in.workdir, out), in.line, true
			}
		}
	}
	return nil, "", "", 0, false
}

// flagTakesValue reports whether a go build flag reads the next word.
func flagTakesValue(flag string) bool {
	switch strings.TrimLeft(flag, "-") {
	case "ldflags", "gcflags", "asmflags", "tags", "mod", "modfile", "pgo", "buildmode",
		"compiler", "gccgoflags", "installsuffix", "overlay", "pkgdir", "toolexec", "p", "C":
		return true
	}
	return false
}
