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

// readSchemaRequest decodes a register, lookup or compatibility body and
// checks its schema type; on a bad request it has answered already.
func (s *Server) readSchemaRequest(w http.ResponseWriter, r *http.Request) (req schemaRequest, typ string, ok bool) {
	if aerr := decodeBody(r, &req); aerr != nil {
		s.writeError(w, r, aerr)
		return req, "", false
	}
	typ, aerr := checkType(req.SchemaType)
	if aerr != nil {
		s.writeError(w, r, aerr)
		return req, "", false
	}
	return req, typ, true
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	req, typ, ok := s.readSchemaRequest(w, r)
	if !ok {
		return
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
