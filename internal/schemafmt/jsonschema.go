package schemafmt

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// JSONSchemaBaseURL is the URL a schema without an absolute $id is compiled
// at; its references' relative names resolve against it (or against the
// schema's own $id), as Confluent resolves them.
const JSONSchemaBaseURL = "https://sluice.invalid/schema.json"

// JSONSchema is a compiled JSON Schema with its documents.
type JSONSchema struct {
	// Schema validates payloads: Schema.Validate(v) with v decoded by
	// jsonschema.UnmarshalJSON (numbers as json.Number).
	Schema *jsonschema.Schema
	// URL is the root document's absolute URL.
	URL string
	// Doc is the root document as decoded JSON (map[string]any, bool, ...).
	Doc any
	// Docs are all documents, the root's and its references', by absolute URL
	// (without fragment).
	Docs map[string]any
}

// CompileJSONSchema compiles a JSON Schema (draft-07 unless its $schema says
// otherwise, as Confluent) whose $refs may name its references (refs maps a
// reference name, resolved against the schema's $id, to its text). The
// error is the compiler's message.
func CompileJSONSchema(text string, refs map[string]string) (*JSONSchema, error) {
	if strings.TrimSpace(text) == "" {
		return nil, errors.New("empty schema")
	}
	doc, err := decodeJSON(text)
	if err != nil {
		return nil, fmt.Errorf("parsing json schema: %w", err)
	}
	root, err := rootURL(doc)
	if err != nil {
		return nil, err
	}
	js := &JSONSchema{URL: root, Doc: doc, Docs: map[string]any{root: doc}}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.UseLoader(noLoader{})
	if err := c.AddResource(root, doc); err != nil {
		return nil, fmt.Errorf("adding the schema: %w", err)
	}
	base, _ := url.Parse(root) // rootURL returned it parsed and absolute
	for name, src := range refs {
		ref, err := url.Parse(name)
		if err != nil {
			return nil, fmt.Errorf("reference %q is not a URL: %w", name, err)
		}
		at := base.ResolveReference(ref)
		at.Fragment = ""
		if _, dup := js.Docs[at.String()]; dup {
			continue // two names for one URL: the first is used
		}
		rdoc, err := decodeJSON(src)
		if err != nil {
			return nil, fmt.Errorf("parsing reference %q: %w", name, err)
		}
		if err := c.AddResource(at.String(), rdoc); err != nil {
			return nil, fmt.Errorf("adding reference %q: %w", name, err)
		}
		js.Docs[at.String()] = rdoc
	}
	sch, err := c.Compile(root)
	if err != nil {
		return nil, fmt.Errorf("compiling json schema: %w", err)
	}
	js.Schema = sch
	return js, nil
}

func decodeJSON(text string) (any, error) {
	return jsonschema.UnmarshalJSON(strings.NewReader(text))
}

// rootURL is where the document is compiled: its $id resolved against JSONSchemaBaseURL.
func rootURL(doc any) (string, error) {
	base, _ := url.Parse(JSONSchemaBaseURL)
	obj, ok := doc.(map[string]any)
	if !ok {
		return base.String(), nil
	}
	id, _ := obj["$id"].(string)
	if id == "" {
		id, _ = obj["id"].(string) // draft-04
	}
	if id == "" {
		return base.String(), nil
	}
	u, err := url.Parse(id)
	if err != nil {
		return "", fmt.Errorf("$id %q is not a URL: %w", id, err)
	}
	u = base.ResolveReference(u)
	u.Fragment = ""
	return u.String(), nil
}

// noLoader refuses every URL that is neither the schema, one of its
// references nor a JSON Schema meta-schema: a registry must not fetch.
type noLoader struct{}

func (noLoader) Load(u string) (any, error) {
	return nil, fmt.Errorf("%s is not one of the schema's references", u)
}
