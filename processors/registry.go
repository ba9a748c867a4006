package processors

import (
	"fmt"
	"sort"
	"sync"
)

// Registry maps step type names to factories. The zero value is not usable;
// use NewRegistry. A binary with custom steps builds one, registers its steps
// and hands it to sluice.Main with sluice.WithSteps; there is no global
// registry.
type Registry struct {
	mu        sync.RWMutex
	factories map[string]Factory
}

// NewRegistry returns a registry holding the built-in steps.
func NewRegistry() *Registry {
	r := &Registry{factories: map[string]Factory{}}
	for name, f := range builtins() {
		r.factories[name] = f
	}
	return r
}

// Register adds a step type. A name that is already taken is an error, never
// a silent overwrite.
func (r *Registry) Register(name string, f Factory) error {
	if name == "" || f == nil {
		return fmt.Errorf("registering step: empty name or nil factory")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.factories[name]; ok {
		return fmt.Errorf("registering step %q: a step with that name is already registered", name)
	}
	r.factories[name] = f
	return nil
}

// Lookup returns the factory for name.
func (r *Registry) Lookup(name string) (Factory, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	f, ok := r.factories[name]
	return f, ok
}

// Names lists the registered step types, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.factories))
	for n := range r.factories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func builtins() map[string]Factory {
	return map[string]Factory{
		"filter":    NewFilter,
		"validate":  NewValidate,
		"map":       NewMap,
		"aggregate": NewAggregate,
		"route":     NewRoute,
		"lookup":    NewLookup,
		"emit":      NewEmit,
		"window":    NewWindow,
	}
}
