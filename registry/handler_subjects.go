package registry

import "net/http"

// schemaRequest is the body of register, lookup and compatibility requests.
type schemaRequest struct {
	Schema     string      `json:"schema"`
	SchemaType string      `json:"schemaType"`
	References []reference `json:"references"`
}

// subjectSchema is a subject version as the API returns it; schemaType is
// omitted for AVRO, as Confluent does.
type subjectSchema struct {
	Subject    string      `json:"subject"`
	Version    int         `json:"version"`
	ID         int         `json:"id"`
	SchemaType string      `json:"schemaType,omitempty"`
	References []reference `json:"references,omitempty"`
	Schema     string      `json:"schema"`
}

func toSubjectSchema(v schemaValue) subjectSchema {
	return subjectSchema{Subject: v.Subject, Version: v.Version, ID: v.ID, SchemaType: wireType(v.SchemaType), References: v.References, Schema: v.Schema}
}

func (s *Server) handleListSubjects(w http.ResponseWriter, r *http.Request) {
	var out []string
	s.store.view(func(st *state) {
		out = st.subjectNames(queryBool(r, "deleted"), queryBool(r, "deletedOnly"), r.URL.Query().Get("subjectPrefix"))
	})
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleListVersions(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	deletedOnly := queryBool(r, "deletedOnly")
	out := []int{}
	s.store.view(func(st *state) {
		for _, v := range st.versions(subject, queryBool(r, "deleted") || deletedOnly) {
			if !deletedOnly || v.Deleted {
				out = append(out, v.Version)
			}
		}
	})
	if len(out) == 0 {
		s.writeError(w, r, errSubjectNotFound(subject))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// findVersion resolves a {version} of subject; soft-deleted versions only when includeDeleted.
func findVersion(st *state, subject string, vp versionParam, includeDeleted bool) (schemaValue, *apiError) {
	latest, ok := st.latest(subject, includeDeleted)
	if !ok {
		return schemaValue{}, errSubjectNotFound(subject)
	}
	if vp.latest {
		return latest, nil
	}
	v, ok := st.version(subject, vp.n)
	if !ok || (v.Deleted && !includeDeleted) {
		return schemaValue{}, errVersionNotFound(subject, vp.n)
	}
	return v, nil
}

func (s *Server) getVersion(r *http.Request) (schemaValue, *apiError) {
	subject := r.PathValue("subject")
	vp, aerr := parseVersion(r.PathValue("version"))
	if aerr != nil {
		return schemaValue{}, aerr
	}
	var v schemaValue
	s.store.view(func(st *state) { v, aerr = findVersion(st, subject, vp, queryBool(r, "deleted")) })
	return v, aerr
}

func (s *Server) handleGetVersion(w http.ResponseWriter, r *http.Request) {
	v, aerr := s.getVersion(r)
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	out := toSubjectSchema(v)
	if out.Schema, aerr = s.formatSchema(r, canonicalType(v.SchemaType), v.Schema, v.ID); aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleGetVersionSchema(w http.ResponseWriter, r *http.Request) {
	v, aerr := s.getVersion(r)
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	text, aerr := s.formatSchema(r, canonicalType(v.SchemaType), v.Schema, v.ID)
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	writeRaw(w, text)
}

func writeRaw(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(text))
}

func (s *Server) handleReferencedBy(w http.ResponseWriter, r *http.Request) {
	v, aerr := s.getVersion(r)
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	var ids []int
	s.store.view(func(st *state) { ids = st.referencedBy(v.Subject, v.Version, false) })
	writeJSON(w, http.StatusOK, ids)
}

// handleLookup finds the subject's version whose schema is the same (see
// avroNormalForm) as the one in the request.
func (s *Server) handleLookup(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	req, typ, ok := s.readSchemaRequest(w, r)
	if !ok {
		return
	}
	includeDeleted := queryBool(r, "deleted")
	var (
		found schemaValue
		aerr  *apiError
	)
	s.store.view(func(st *state) {
		_, key, err := st.identifyRequest(typ, req.Schema, req.References)
		if err != nil {
			aerr = errInvalidSchema("Invalid schema: %v", err)
			return
		}
		if _, exists := st.latest(subject, includeDeleted); !exists {
			aerr = errSubjectNotFound(subject)
			return
		}
		var hit bool
		if found, hit = st.findByKey(subject, key, includeDeleted); !hit {
			aerr = errSchemaNotFound("Schema not found under subject '%s'.", subject)
		}
	})
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	writeJSON(w, http.StatusOK, toSubjectSchema(found))
}
