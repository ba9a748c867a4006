package registry

import (
	"context"
	"net/http"
	"strings"
)

// write runs a store update bounded by the server's write timeout.
func (s *Server) write(r *http.Request, fn func(st *state) ([]entry, error)) error {
	ctx, cancel := context.WithTimeout(r.Context(), s.writeTimeout)
	defer cancel()
	return s.store.update(ctx, fn)
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	var req schemaRequest
	if aerr := decodeBody(r, &req); aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	typ, aerr := checkType(req.SchemaType)
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	if len(req.References) == 0 {
		req.References = nil
	}
	key := identityKey(typ, req.Schema, req.References)
	var id int
	err := s.write(r, func(st *state) ([]entry, error) {
		live := st.versions(subject, false)
		for i := len(live) - 1; i >= 0; i-- {
			if info := st.ids[live[i].ID]; info != nil && info.key == key {
				id = live[i].ID // idempotent: already registered (and validated) here
				return nil, nil
			}
		}
		parsed, err := parseAvro(st, req.Schema, req.References)
		if err != nil {
			return nil, errInvalidSchema("Invalid schema: %v", err)
		}
		if msgs := checkCompatibility(parsed, st.level(subject), previousVersions(st, live)); len(msgs) > 0 {
			return nil, newAPIError(http.StatusConflict, codeIncompatibleSchema,
				"Schema being registered is incompatible with an earlier schema for subject '%s', details: [%s]",
				subject, strings.Join(msgs, "; "))
		}
		newID, ok := st.byKey[key]
		if !ok {
			newID = st.maxID + 1
		}
		id = newID
		version := st.maxVersion(subject) + 1
		return []entry{{kind: entrySchema, subject: subject, version: version, schema: &schemaValue{
			Subject: subject, Version: version, ID: newID, References: req.References, Schema: req.Schema,
		}}}, nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		ID int `json:"id"`
	}{id})
}
