package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/registry/regclient"
)

// codecResult is one W4 microbenchmark.
type codecResult struct {
	name    string
	nsPerOp float64
	allocs  int64
	bytes   int64
}

// codecBenchmarks runs W4 in this process with testing.Benchmark: decoding
// and resolving a framed UserEvent written with the v1 and the v2 schema
// into the reader (v2), by sluice's codec and by the hand-written
// contestants' hamba/avro struct decoding.
func codecBenchmarks(ctx context.Context, h *harness) ([]codecResult, error) {
	topic := h.run + "-w4"
	v1, v2, err := h.writers(ctx, topic)
	if err != nil {
		return nil, err
	}
	country := "KR"
	ev := demo.Event{Key: "user-42", Kind: demo.KindValid, EventType: "purchase", Amount: 129.99, TS: time.Now().UnixMilli(), Country: &country}
	frames := map[string][]byte{}
	for name, enc := range map[string]demo.Encoder{"v1": v1, "v2": v2} {
		e := ev
		e.V1 = name == "v1"
		if frames[name], err = enc(e.Fields()); err != nil {
			return nil, err
		}
	}
	client, err := regclient.New(regclient.Config{URL: h.env.RegistryURL()})
	if err != nil {
		return nil, err
	}
	s := codecs.NewSchemas()
	reader, err := s.ParseFile(filepath.Join(h.repo, "schemas/user_event.avsc"))
	if err != nil {
		return nil, err
	}
	sluiceCodec, err := codecs.NewAvro(client, s, reader)
	if err != nil {
		return nil, err
	}
	decoders := []struct {
		name   string
		decode func([]byte) error
	}{
		{"sluice codecs.Avro.Decode", func(b []byte) error { _, err := sluiceCodec.Decode(b); return err }},
		{"hand-written: hamba/avro into a struct", func(b []byte) error { _, err := h.codec.Decode(ctx, b); return err }},
	}
	var out []codecResult
	for _, d := range decoders {
		for _, writer := range []string{"v1", "v2"} {
			frame := frames[writer]
			if err := d.decode(frame); err != nil { // warms the writer schema cache
				return nil, fmt.Errorf("%s of a %s frame: %w", d.name, writer, err)
			}
			var failed error
			res := testing.Benchmark(func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := d.decode(frame); err != nil {
						failed = err
						b.FailNow()
					}
				}
			})
			if failed != nil {
				return nil, fmt.Errorf("%s: %w", d.name, failed)
			}
			out = append(out, codecResult{
				name:    fmt.Sprintf("%s, %s frame -> v2 reader", d.name, writer),
				nsPerOp: float64(res.T.Nanoseconds()) / float64(res.N), allocs: res.AllocsPerOp(), bytes: res.AllocedBytesPerOp(),
			})
		}
	}
	tester, err := testerBenchmarks(ctx, h)
	if err != nil {
		return nil, err
	}
	return append(out, tester...), nil
}

// testerBenchmarks runs BenchmarkUserStatsCallback (pipeline/bench_test.go)
// with -benchmem: the reference user-stats callback per message in goka's
// tester, beside the tester's own floor. Its ns/op is mostly the tester's
// polling; its allocations are the per-message path's.
func testerBenchmarks(ctx context.Context, h *harness) ([]codecResult, error) {
	n := "20000x"
	if h.o.smoke {
		n = "500x"
	}
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "UserStatsCallback", "-benchmem", "-benchtime", n, "./pipeline")
	cmd.Dir = h.repo
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench UserStatsCallback ./pipeline: %w\n%s", err, tail(string(out), 3000))
	}
	var res []codecResult
	for _, line := range strings.Split(string(out), "\n") {
		// BenchmarkUserStatsCallback/sluice-2  20000  45450 ns/op  8274 B/op  163 allocs/op
		f := strings.Fields(line)
		if len(f) < 8 || !strings.HasPrefix(f[0], "BenchmarkUserStatsCallback/") {
			continue
		}
		ns, err1 := strconv.ParseFloat(f[2], 64)
		b, err2 := strconv.ParseInt(f[4], 10, 64)
		allocs, err3 := strconv.ParseInt(f[6], 10, 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("reading %q: %w", line, err)
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i] // the GOMAXPROCS suffix
		}
		res = append(res, codecResult{name: "pipeline " + name + " (one message in goka's tester)", nsPerOp: ns, allocs: allocs, bytes: b})
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("go test -bench UserStatsCallback ./pipeline printed no results:\n%s", tail(string(out), 3000))
	}
	return res, nil
}
