package pipetest

import (
	"context"
	"net/http"
	"sync"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/registry/regclient"
)

// memRegistry is a schema registry in memory, for one test case: ids are
// given in the order schemas are first registered, as a fresh registry
// gives them; a subject's versions count from 1.
type memRegistry struct {
	mu       sync.Mutex
	texts    []string       // id-1 -> schema
	ids      map[string]int // schema -> id
	subjects map[string][]int
}

var _ codecs.Registry = (*memRegistry)(nil)

func newMemRegistry() *memRegistry {
	return &memRegistry{ids: map[string]int{}, subjects: map[string][]int{}}
}

func notFound(code int, msg string) error {
	return &regclient.Error{Method: http.MethodGet, URL: "memory", StatusCode: http.StatusNotFound, Code: code, Message: msg}
}

// SchemaByID returns the schema registered under id.
func (r *memRegistry) SchemaByID(_ context.Context, id int) (regclient.Schema, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id < 1 || id > len(r.texts) {
		return regclient.Schema{}, notFound(regclient.CodeSchemaNotFound, "Schema not found")
	}
	return regclient.Schema{ID: id, Type: "AVRO", Text: r.texts[id-1]}, nil
}

// Register registers schema under subject and returns its id.
func (r *memRegistry) Register(_ context.Context, subject, schema string) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ok := r.ids[schema]
	if !ok {
		r.texts = append(r.texts, schema)
		id = len(r.texts)
		r.ids[schema] = id
	}
	for _, v := range r.subjects[subject] {
		if v == id {
			return id, nil
		}
	}
	r.subjects[subject] = append(r.subjects[subject], id)
	return id, nil
}

// Lookup returns the id and version of schema under subject.
func (r *memRegistry) Lookup(_ context.Context, subject, schema string) (int, int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	versions, ok := r.subjects[subject]
	if !ok {
		return 0, 0, notFound(regclient.CodeSubjectNotFound, "Subject not found")
	}
	id := r.ids[schema]
	for i, v := range versions {
		if v == id {
			return id, i + 1, nil
		}
	}
	return 0, 0, notFound(regclient.CodeSchemaNotFound, "Schema not found")
}
