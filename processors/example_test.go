package processors_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/processors"
)

// A custom Go step is registered under a name in a Registry and used in
// pipelines.yaml like a built-in one.
func ExampleRegistry_Register() {
	reg := processors.NewRegistry()
	err := reg.Register("upper", func(spec *processors.Spec) (processors.Step, error) {
		field := spec.Config.String() // the YAML under "upper:"
		return processors.StepFunc(func(_ context.Context, m *processors.Message) (processors.Result, error) {
			rec, _ := m.Value().(map[string]any)
			if s, ok := rec[field].(string); ok {
				rec[field] = strings.ToUpper(s)
			}
			m.SetValue(rec)
			return processors.Continue, nil
		}), nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(reg.Register("upper", nil) != nil, reg.Register("filter", processors.NewFilter))

	src := `version: 1
pipelines:
  - name: shout
    input: {topic: in, codec: json}
    dead_letter: in-dlq
    outputs: {out: {topic: out, codec: json}}
    steps:
      - upper: country
      - emit: out
`
	cfg, err := pipeline.Parse("example.yaml", []byte(src), pipeline.WithSteps(reg))
	if err != nil {
		fmt.Println(err)
		return
	}
	m := processors.NewMessage("u1", map[string]any{"country": "fr"}, processors.Meta{})
	for _, s := range cfg.Pipelines[0].Steps {
		if _, err := s.Impl.Process(context.Background(), m); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Printf("%s %s %v\n", m.Emits()[0].Output, m.Emits()[0].Key, m.Emits()[0].Value)
	// Output:
	// true registering step "filter": a step with that name is already registered
	// out u1 map[country:FR]
}
