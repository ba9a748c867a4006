package codecs_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/codecs"
)

// fuzzCodecs returns a v2 reader codec over sluice's in-memory registry holding
// id 1 = UserEvent v1, id 2 = UserEvent v2, id 3 = a writer not resolvable to v2
// (amount is a string); the seed corpus in testdata/fuzz/FuzzAvroDecode uses these ids.
// The second codec re-encodes decoded values.
func fuzzCodecs(t testing.TB) (*codecs.Avro, *codecs.Avro) {
	reg := newTestRegistry(t).client()
	for i, text := range []string{
		userEventV1(t),
		userEventV2(t),
		`{"type":"record","name":"UserEvent","namespace":"com.example.events","fields":[
			{"name":"user_id","type":"string"},{"name":"amount","type":"string"}]}`,
	} {
		want := i + 1
		if id, err := reg.Register(context.Background(), "s"+strconv.Itoa(want), text); err != nil || id != want {
			t.Fatalf("registering writer %d: id %d, %v", want, id, err)
		}
	}
	s := codecs.NewSchemas()
	reader := mustParse(t, s, userEventV2(t))
	dec := mustAvro(t, reg, s, reader)
	enc := mustAvro(t, reg, s, reader, codecs.WithSubjectName("fuzz-value"))
	return dec, enc
}

func FuzzAvroDecode(f *testing.F) {
	dec, enc := fuzzCodecs(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		v, err := dec.Decode(frame)
		id, idOK := codecs.FrameSchemaID(frame)
		if err != nil {
			if !errors.Is(err, codecs.ErrPoison) && !errors.Is(err, codecs.ErrUnavailable) {
				t.Fatalf("unclassified error: %v", err)
			}
			var ce *codecs.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error is not a *codecs.Error: %v", err)
			}
			if idOK && ce.SchemaID != id || !idOK && ce.SchemaID != 0 {
				t.Fatalf("error schema id %d, frame id %d (%v)", ce.SchemaID, id, idOK)
			}
			return
		}
		if !idOK {
			t.Fatalf("decoded a frame without a valid header: %x", frame)
		}
		m, ok := v.(map[string]any)
		if !ok || len(m) != 5 {
			t.Fatalf("decoded %#v: want a 5-field UserEvent map", v)
		}
		// Whatever decodes is canonical, so it encodes and decodes again.
		again, err := enc.Encode(m)
		if err != nil {
			t.Fatalf("re-encoding %#v: %v", m, err)
		}
		if _, err := dec.Decode(again); err != nil {
			t.Fatalf("decoding the re-encoded value: %v", err)
		}
	})
}

// The checked-in valid_* seeds really are valid frames (so the fuzzer starts from the
// success path), and the others really are poison.
func TestFuzzSeedCorpus(t *testing.T) {
	dec, _ := fuzzCodecs(t)
	entries, err := os.ReadDir("testdata/fuzz/FuzzAvroDecode")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		raw := readFile(t, filepath.Join("testdata/fuzz/FuzzAvroDecode", e.Name()))
		lines := strings.Split(strings.TrimSpace(raw), "\n")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" {
			t.Fatalf("%s: not a fuzz corpus file", e.Name())
		}
		q := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
		frame, err := strconv.Unquote(q)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		_, err = dec.Decode([]byte(frame))
		valid := strings.HasPrefix(e.Name(), "valid_")
		if valid && err != nil || !valid && !errors.Is(err, codecs.ErrPoison) {
			t.Errorf("%s: err %v (valid seed: %v)", e.Name(), err, valid)
		}
	}
}
