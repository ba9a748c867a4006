package registry

import (
	"net/http"
	"strconv"
)

func (s *Server) handleTypes(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, []string{typeJSON, typeProtobuf, typeAvro})
}

// schemaByID resolves the {id} path segment.
func (s *Server) schemaByID(r *http.Request) (int, idInfo, *apiError) {
	raw := r.PathValue("id")
	id, err := strconv.Atoi(raw)
	if err != nil || id < 1 {
		return 0, idInfo{}, errSchemaNotFound("Schema %s not found", raw)
	}
	var (
		info idInfo
		ok   bool
	)
	s.store.view(func(st *state) {
		if p := st.ids[id]; p != nil {
			info, ok = *p, true
		}
	})
	if !ok {
		return 0, idInfo{}, errSchemaNotFound("Schema %d not found", id)
	}
	return id, info, nil
}

func (s *Server) handleSchemaByID(w http.ResponseWriter, r *http.Request) {
	_, info, aerr := s.schemaByID(r)
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		SchemaType string      `json:"schemaType,omitempty"`
		References []reference `json:"references,omitempty"`
		Schema     string      `json:"schema"`
	}{wireType(info.schemaType), info.refs, info.schema})
}

func (s *Server) handleSchemaTextByID(w http.ResponseWriter, r *http.Request) {
	_, info, aerr := s.schemaByID(r)
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	writeRaw(w, info.schema)
}

type subjectVersion struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

func (s *Server) handleVersionsByID(w http.ResponseWriter, r *http.Request) {
	id, _, aerr := s.schemaByID(r)
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	out := []subjectVersion{}
	s.store.view(func(st *state) {
		for _, v := range st.usages(id, queryBool(r, "deleted")) {
			out = append(out, subjectVersion{v.Subject, v.Version})
		}
	})
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleSubjectsByID(w http.ResponseWriter, r *http.Request) {
	id, _, aerr := s.schemaByID(r)
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	out := []string{}
	s.store.view(func(st *state) {
		for _, v := range st.usages(id, queryBool(r, "deleted")) {
			if len(out) == 0 || out[len(out)-1] != v.Subject {
				out = append(out, v.Subject)
			}
		}
	})
	writeJSON(w, http.StatusOK, out)
}
