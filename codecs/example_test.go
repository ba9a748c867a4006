package codecs_test

import (
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/registry"
	"github.com/sluicehq/sluice/registry/regclient"
)

func ExampleAvro() {
	reg := httptest.NewServer(registry.NewServer(registry.NewMemoryStore()))
	defer reg.Close()

	schemas := codecs.NewSchemas()
	reader, err := schemas.Parse(`{"type":"record","name":"Ping","namespace":"ex","fields":[
		{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
		{"name":"note","type":["null","string"],"default":null}]}`)
	if err != nil {
		panic(err)
	}
	client, err := regclient.New(regclient.Config{URL: reg.URL})
	if err != nil {
		panic(err)
	}
	codec, err := codecs.NewAvro(client, schemas, reader,
		codecs.WithSubject("pings", codecs.TopicNameStrategy))
	if err != nil {
		panic(err)
	}
	frame, err := codec.Encode(map[string]any{"at": "2026-01-02T03:04:05Z", "note": "hi"})
	if err != nil {
		panic(err)
	}
	id, _ := codecs.FrameSchemaID(frame)
	v, err := codec.Decode(frame)
	if err != nil {
		panic(err)
	}
	rec := v.(map[string]any)
	fmt.Println(codec.Subject(), id, rec["at"].(time.Time).Format(time.RFC3339), rec["note"])
	// Output: pings-value 1 2026-01-02T03:04:05Z hi
}

func ExampleCoerce() {
	s := codecs.NewSchemas()
	sch, _ := s.Parse(`{"type":"record","name":"R","fields":[{"name":"n","type":"int"}]}`)
	_, err := codecs.Coerce(sch, map[string]any{"n": "seven"})
	fmt.Println(err)
	// Output: coercing to R: field n: string (seven) where integer expected
}

func ExampleToJSON() {
	v := map[string]any{"ts": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	fmt.Println(codecs.ToJSON(v))
	// Output: map[ts:1767225600000]
}
