package registry

import "net/http"

type compatResponse struct {
	IsCompatible bool      `json:"is_compatible"`
	Messages     *[]string `json:"messages,omitempty"` // only with ?verbose=true, then always present
}

// handleCompatVersion checks a schema against one version (or latest) of a subject,
// in the direction(s) of the subject's level.
func (s *Server) handleCompatVersion(w http.ResponseWriter, r *http.Request) {
	vp, aerr := parseVersion(r.PathValue("version"))
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	s.checkCompat(w, r, func(st *state, subject string) ([]schemaValue, *apiError) {
		v, aerr := findVersion(st, subject, vp, false)
		if aerr != nil {
			if vp.latest { // latest of an unknown subject: nothing to be incompatible with
				return nil, nil
			}
			return nil, aerr
		}
		return []schemaValue{v}, nil
	})
}

// handleCompatAll checks a schema against the subject's live versions, as registering would
// (the latest only, unless the level is transitive).
func (s *Server) handleCompatAll(w http.ResponseWriter, r *http.Request) {
	s.checkCompat(w, r, func(st *state, subject string) ([]schemaValue, *apiError) {
		return checkedVersions(st, subject, st.level(subject)), nil
	})
}

func (s *Server) checkCompat(w http.ResponseWriter, r *http.Request, against func(*state, string) ([]schemaValue, *apiError)) {
	subject := r.PathValue("subject")
	req, typ, ok := s.readSchemaRequest(w, r)
	if !ok {
		return
	}
	var (
		parsed   *parsedSchema
		level    string
		previous []previousVersion
		aerr     *apiError
	)
	// Gather under the store's lock what to check against (stored versions
	// are parsed already); check after it is released.
	s.store.view(func(st *state) {
		var err error
		if parsed, err = parseSchema(st, typ, req.Schema, req.References, false); err != nil {
			aerr = errInvalidSchema("Invalid schema: %v", err)
			return
		}
		var versions []schemaValue
		if versions, aerr = against(st, subject); aerr != nil {
			return
		}
		level = st.level(subject)
		previous = previousVersions(st, versions)
	})
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	msgs := checkCompatibility(parsed, level, previous)
	resp := compatResponse{IsCompatible: len(msgs) == 0}
	if queryBool(r, "verbose") {
		all := append([]string{}, msgs...)
		resp.Messages = &all
	}
	writeJSON(w, http.StatusOK, resp)
}
