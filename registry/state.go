package registry

import (
	"sort"
	"strings"
)

// state is the registry's data, rebuilt from entries; callers synchronise access.
type state struct {
	subjects map[string]map[int]schemaValue // subject -> version -> value
	ids      map[int]*idInfo
	byKey    map[string]int    // identityKey -> id
	configs  map[string]string // subject ("" = global) -> level
	maxID    int
}

// idInfo is the schema behind an id and how many versions use it.
type idInfo struct {
	schemaType string
	schema     string
	refs       []reference
	key        string
	uses       int
}

func newState() *state {
	return &state{
		subjects: make(map[string]map[int]schemaValue),
		ids:      make(map[int]*idInfo),
		byKey:    make(map[string]int),
		configs:  make(map[string]string),
	}
}

func (st *state) apply(e entry) {
	switch e.kind {
	case entrySchema:
		versions := st.subjects[e.subject]
		if old, ok := versions[e.version]; ok {
			st.release(old.ID)
			delete(versions, e.version)
		}
		if e.schema == nil {
			if len(versions) == 0 {
				delete(st.subjects, e.subject)
			}
			return
		}
		if versions == nil {
			versions = make(map[int]schemaValue)
			st.subjects[e.subject] = versions
		}
		v := *e.schema
		v.Subject, v.Version = e.subject, e.version
		versions[e.version] = v
		st.retain(v)
	case entryConfig:
		if e.level == "" {
			delete(st.configs, e.subject)
		} else {
			st.configs[e.subject] = e.level
		}
	case entryDeleteSubject:
		for n, v := range st.subjects[e.subject] {
			if n <= e.version && !v.Deleted {
				v.Deleted = true
				st.subjects[e.subject][n] = v
			}
		}
	}
}

func (st *state) retain(v schemaValue) {
	info := st.ids[v.ID]
	if info == nil {
		info = &idInfo{
			schemaType: canonicalType(v.SchemaType),
			schema:     v.Schema,
			refs:       v.References,
			key:        identityKey(v.SchemaType, v.Schema, v.References),
		}
		st.ids[v.ID] = info
		if _, taken := st.byKey[info.key]; !taken {
			st.byKey[info.key] = v.ID
		}
	}
	info.uses++
	st.maxID = max(st.maxID, v.ID)
}

func (st *state) release(id int) {
	info := st.ids[id]
	if info == nil {
		return
	}
	info.uses--
	if info.uses > 0 {
		return
	}
	delete(st.ids, id)
	if st.byKey[info.key] == id {
		delete(st.byKey, info.key)
	}
}

// versions returns the subject's versions in ascending order.
func (st *state) versions(subject string, includeDeleted bool) []schemaValue {
	var out []schemaValue
	for _, v := range st.subjects[subject] {
		if includeDeleted || !v.Deleted {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
}

// version returns one version of a subject, soft-deleted or not.
func (st *state) version(subject string, n int) (schemaValue, bool) {
	v, ok := st.subjects[subject][n]
	return v, ok
}

// maxVersion is the highest version number a subject has used (soft-deleted included).
func (st *state) maxVersion(subject string) int {
	n := 0
	for v := range st.subjects[subject] {
		n = max(n, v)
	}
	return n
}

// subjectNames lists subjects with at least one (non-deleted unless includeDeleted) version.
func (st *state) subjectNames(includeDeleted, deletedOnly bool, prefix string) []string {
	out := []string{}
	for s, versions := range st.subjects {
		if !strings.HasPrefix(s, prefix) {
			continue
		}
		live := false
		for _, v := range versions {
			live = live || !v.Deleted
		}
		if (deletedOnly && live) || (!deletedOnly && !includeDeleted && !live) {
			continue
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// usages lists the subject versions that use a schema id, by subject then version.
func (st *state) usages(id int, includeDeleted bool) []schemaValue {
	var out []schemaValue
	for _, versions := range st.subjects {
		for _, v := range versions {
			if v.ID == id && (includeDeleted || !v.Deleted) {
				out = append(out, v)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Subject != out[j].Subject {
			return out[i].Subject < out[j].Subject
		}
		return out[i].Version < out[j].Version
	})
	return out
}

// level returns the compatibility level that applies to subject.
func (st *state) level(subject string) string {
	if l, ok := st.configs[subject]; ok && subject != "" {
		return l
	}
	if l, ok := st.configs[""]; ok {
		return l
	}
	return defaultLevel
}
