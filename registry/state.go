package registry

import (
	"slices"
	"sort"
	"strings"
)

// state is the registry's data, rebuilt from entries; callers synchronise access.
//
// Everything a registration needs is indexed, so that registering into a
// subject costs the same whatever the number of its versions: each schema id
// is parsed once, when it is first stored, and keeps its parsed schema and
// identity key; a subject keeps its version numbers in order and its versions
// by identity key.
type state struct {
	subjects map[string]*subjectState
	ids      map[int]*idInfo
	byKey    map[string]int    // identityKey -> id (the first stored, if several share it)
	byText   map[string]int    // textKey of a parsed id's stored text -> id
	configs  map[string]string // subject ("" = global) -> level
	maxID    int
}

// subjectState is one subject's versions, soft-deleted included.
type subjectState struct {
	versions map[int]schemaValue
	order    []int            // version numbers, ascending
	byKey    map[string][]int // identity key -> versions with a schema of that key, ascending
}

// idInfo is the schema behind an id and how many versions use it.
type idInfo struct {
	schemaType string
	schema     string
	refs       []reference
	key        string
	textKey    string // set when parsed is
	// parsed is the parsed schema (nil when parseErr is set).
	parsed   *parsedSchema
	parseErr error
	uses     int
}

func newState() *state {
	return &state{
		subjects: make(map[string]*subjectState),
		ids:      make(map[int]*idInfo),
		byKey:    make(map[string]int),
		byText:   make(map[string]int),
		configs:  make(map[string]string),
	}
}

func (st *state) apply(e entry) {
	switch e.kind {
	case entrySchema:
		ss := st.subjects[e.subject]
		if ss != nil {
			if old, ok := ss.versions[e.version]; ok {
				ss.remove(old, st.ids[old.ID].key)
				st.release(old.ID)
			}
		}
		if e.schema == nil {
			if ss != nil && len(ss.versions) == 0 {
				delete(st.subjects, e.subject)
			}
			return
		}
		if ss == nil {
			ss = &subjectState{versions: make(map[int]schemaValue), byKey: make(map[string][]int)}
			st.subjects[e.subject] = ss
		}
		v := *e.schema
		v.Subject, v.Version = e.subject, e.version
		ss.add(v, st.retain(v).key)
	case entryConfig:
		if e.level == "" {
			delete(st.configs, e.subject)
		} else {
			st.configs[e.subject] = e.level
		}
	case entryDeleteSubject:
		ss := st.subjects[e.subject]
		if ss == nil {
			return
		}
		for _, n := range ss.order {
			if v := ss.versions[n]; n <= e.version && !v.Deleted {
				v.Deleted = true
				ss.versions[n] = v
			}
		}
	}
}

func (ss *subjectState) add(v schemaValue, key string) {
	ss.versions[v.Version] = v
	ss.order = insertSorted(ss.order, v.Version)
	ss.byKey[key] = insertSorted(ss.byKey[key], v.Version)
}

func (ss *subjectState) remove(v schemaValue, key string) {
	delete(ss.versions, v.Version)
	ss.order = deleteSorted(ss.order, v.Version)
	if rest := deleteSorted(ss.byKey[key], v.Version); len(rest) > 0 {
		ss.byKey[key] = rest
	} else {
		delete(ss.byKey, key)
	}
}

// insertSorted inserts n into the ascending s (usually at its end).
func insertSorted(s []int, n int) []int {
	i, found := slices.BinarySearch(s, n)
	if found {
		return s
	}
	return slices.Insert(s, i, n)
}

func deleteSorted(s []int, n int) []int {
	if i, found := slices.BinarySearch(s, n); found {
		return slices.Delete(s, i, i+1)
	}
	return s
}

// retain counts one more use of v's id, parsing its schema if the id is new.
func (st *state) retain(v schemaValue) *idInfo {
	info := st.ids[v.ID]
	if info == nil {
		info = st.newIDInfo(v)
		st.ids[v.ID] = info
		if _, taken := st.byKey[info.key]; !taken {
			st.byKey[info.key] = v.ID
		}
		if _, taken := st.byText[info.textKey]; info.textKey != "" && !taken {
			st.byText[info.textKey] = v.ID
		}
	}
	info.uses++
	st.maxID = max(st.maxID, v.ID)
	return info
}

// newIDInfo parses a stored schema once. A schema that cannot be parsed (a
// type this registry does not know, or a reference the log no longer holds)
// is identified by its normalised text instead.
func (st *state) newIDInfo(v schemaValue) *idInfo {
	info := &idInfo{schemaType: canonicalType(v.SchemaType), schema: v.Schema, refs: v.References}
	if _, aerr := checkType(info.schemaType); aerr == nil {
		info.parsed, info.key, info.parseErr = identify(st, info.schemaType, v.Schema, v.References, true)
		if info.parseErr == nil {
			info.textKey = textKey(info.schemaType, v.Schema, v.References)
		}
	} else {
		info.parseErr = aerr
	}
	if info.key == "" {
		info.key = identityKey(info.schemaType, normalizeText(v.Schema), v.References)
	}
	return info
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
	if info.textKey != "" && st.byText[info.textKey] == id {
		delete(st.byText, info.textKey)
	}
}

// identifyRequest parses a request's schema and returns it with its
// identity key, or takes both from the id stored with the very same type, text
// and references: an exact re-registration, the common case, is not parsed again.
func (st *state) identifyRequest(schemaType, text string, refs []reference) (*parsedSchema, string, error) {
	if id, ok := st.byText[textKey(schemaType, text, refs)]; ok && st.liveReferences(refs) {
		info := st.ids[id]
		return info.parsed, info.key, nil
	}
	return identify(st, schemaType, text, refs, false)
}

// liveReferences reports whether every reference names a live version (a
// request may reference no other).
func (st *state) liveReferences(refs []reference) bool {
	for _, r := range refs {
		if v, ok := st.version(r.Subject, r.Version); !ok || v.Deleted {
			return false
		}
	}
	return true
}

// versions returns the subject's versions in ascending order.
func (st *state) versions(subject string, includeDeleted bool) []schemaValue {
	ss := st.subjects[subject]
	if ss == nil {
		return nil
	}
	out := make([]schemaValue, 0, len(ss.order))
	for _, n := range ss.order {
		if v := ss.versions[n]; includeDeleted || !v.Deleted {
			out = append(out, v)
		}
	}
	return out
}

// latest returns the subject's highest version (non-deleted unless includeDeleted).
func (st *state) latest(subject string, includeDeleted bool) (schemaValue, bool) {
	ss := st.subjects[subject]
	if ss == nil {
		return schemaValue{}, false
	}
	for i := len(ss.order) - 1; i >= 0; i-- {
		if v := ss.versions[ss.order[i]]; includeDeleted || !v.Deleted {
			return v, true
		}
	}
	return schemaValue{}, false
}

// findByKey returns the subject's highest version (non-deleted unless
// includeDeleted) whose schema has the identity key.
func (st *state) findByKey(subject, key string, includeDeleted bool) (schemaValue, bool) {
	ss := st.subjects[subject]
	if ss == nil {
		return schemaValue{}, false
	}
	same := ss.byKey[key]
	for i := len(same) - 1; i >= 0; i-- {
		if v := ss.versions[same[i]]; includeDeleted || !v.Deleted {
			return v, true
		}
	}
	return schemaValue{}, false
}

// version returns one version of a subject, soft-deleted or not.
func (st *state) version(subject string, n int) (schemaValue, bool) {
	ss := st.subjects[subject]
	if ss == nil {
		return schemaValue{}, false
	}
	v, ok := ss.versions[n]
	return v, ok
}

// maxVersion is the highest version number a subject has used (soft-deleted included).
func (st *state) maxVersion(subject string) int {
	if ss := st.subjects[subject]; ss != nil && len(ss.order) > 0 {
		return ss.order[len(ss.order)-1]
	}
	return 0
}

// subjectNames lists subjects with at least one (non-deleted unless includeDeleted) version.
func (st *state) subjectNames(includeDeleted, deletedOnly bool, prefix string) []string {
	out := []string{}
	for s := range st.subjects {
		if !strings.HasPrefix(s, prefix) {
			continue
		}
		_, live := st.latest(s, false)
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
	for _, ss := range st.subjects {
		for _, v := range ss.versions {
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

// referencedBy lists the ids of schemas that reference subject's version,
// ascending: those of live versions, and of soft-deleted ones too when includeDeleted.
func (st *state) referencedBy(subject string, version int, includeDeleted bool) []int {
	ids := []int{}
	seen := map[int]bool{}
	for _, ss := range st.subjects {
		for _, u := range ss.versions {
			for _, ref := range u.References {
				if (includeDeleted || !u.Deleted) && !seen[u.ID] && ref.Subject == subject && ref.Version == version {
					seen[u.ID] = true
					ids = append(ids, u.ID)
				}
			}
		}
	}
	sort.Ints(ids)
	return ids
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
