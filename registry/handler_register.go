package registry

import (
	"context"
	"net/http"
)

// write runs a store update bounded by the server's write timeout.
func (s *Server) write(r *http.Request, fn func(st *state) ([]entry, error)) error {
	ctx, cancel := context.WithTimeout(r.Context(), s.writeTimeout)
	defer cancel()
	return s.store.update(ctx, fn)
}

// readSchemaRequest decodes a register, lookup or compatibility body and
// checks its schema type and size; on a bad request it has answered already.
func (s *Server) readSchemaRequest(w http.ResponseWriter, r *http.Request) (req schemaRequest, typ string, ok bool) {
	if aerr := decodeBody(r, &req); aerr != nil {
		s.writeError(w, r, aerr)
		return req, "", false
	}
	if len(req.Schema) > s.maxSchemaBytes {
		s.writeError(w, r, newAPIError(http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge,
			"schema of %d bytes is larger than this registry's limit of %d bytes", len(req.Schema), s.maxSchemaBytes))
		return req, "", false
	}
	typ, aerr := checkType(req.SchemaType)
	if aerr != nil {
		s.writeError(w, r, aerr)
		return req, "", false
	}
	return req, typ, true
}

// handleRegister registers a schema under a subject. Its cost does not grow
// with the subject's versions (see state): the identity check is an index
// lookup, and the compatibility check uses the stored versions' parsed schemas
// (all live versions only at a transitive level).
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	req, typ, ok := s.readSchemaRequest(w, r)
	if !ok {
		return
	}
	var id int
	err := s.write(r, func(st *state) ([]entry, error) {
		parsed, key, err := st.identifyRequest(typ, req.Schema, req.References)
		if err != nil {
			return nil, errInvalidSchema("Invalid schema: %v", err)
		}
		if v, found := st.findByKey(subject, key, false); found {
			id = v.ID // idempotent: already registered here
			return nil, nil
		}
		level := st.level(subject)
		if msgs := checkCompatibility(parsed, level, previousVersions(st, checkedVersions(st, subject, level))); len(msgs) > 0 {
			return nil, errIncompatible(subject, msgs)
		}
		newID, ok := st.byKey[key]
		if !ok {
			newID = st.maxID + 1
		}
		id = newID
		version := st.maxVersion(subject) + 1
		return []entry{{kind: entrySchema, subject: subject, version: version, schema: &schemaValue{
			Subject: subject, Version: version, ID: newID, SchemaType: wireType(typ), References: req.References, Schema: req.Schema,
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
