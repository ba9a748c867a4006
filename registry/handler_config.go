package registry

import "net/http"

type configResponse struct {
	CompatibilityLevel string `json:"compatibilityLevel"`
}

type configRequest struct {
	Compatibility string `json:"compatibility"`
}

func (s *Server) handleGetGlobalConfig(w http.ResponseWriter, _ *http.Request) {
	var level string
	s.store.view(func(st *state) { level = st.level("") })
	writeJSON(w, http.StatusOK, configResponse{level})
}

func (s *Server) handleGetSubjectConfig(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	var (
		level string
		ok    bool
	)
	s.store.view(func(st *state) {
		if level, ok = st.configs[subject]; !ok && queryBool(r, "defaultToGlobal") {
			level, ok = st.level(""), true
		}
	})
	if !ok {
		s.writeError(w, r, newAPIError(http.StatusNotFound, codeSubjectLevelNotConfigured,
			"Subject '%s' does not have subject-level compatibility configured", subject))
		return
	}
	writeJSON(w, http.StatusOK, configResponse{level})
}

// handlePutConfig sets the global level (PUT /config) or a subject's (PUT /config/{subject}).
func (s *Server) handlePutConfig(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	var req configRequest
	if aerr := decodeBody(r, &req); aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	level, ok := parseLevel(req.Compatibility)
	if !ok {
		s.writeError(w, r, errInvalidCompatibility(req.Compatibility))
		return
	}
	err := s.write(r, func(st *state) ([]entry, error) {
		if cur, ok := st.configs[subject]; ok && cur == level {
			return nil, nil
		}
		return []entry{{kind: entryConfig, subject: subject, level: level}}, nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, configRequest{level})
}

func (s *Server) handleDeleteGlobalConfig(w http.ResponseWriter, r *http.Request) {
	var prev string
	err := s.write(r, func(st *state) ([]entry, error) {
		prev = st.level("")
		if _, ok := st.configs[""]; !ok {
			return nil, nil
		}
		return []entry{{kind: entryConfig}}, nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, configResponse{prev})
}

func (s *Server) handleDeleteSubjectConfig(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	var prev string
	err := s.write(r, func(st *state) ([]entry, error) {
		level, ok := st.configs[subject]
		switch {
		case !ok && st.subjects[subject] == nil:
			return nil, errSubjectNotFound(subject)
		case !ok:
			return nil, newAPIError(http.StatusNotFound, codeSubjectLevelNotConfigured,
				"Subject '%s' does not have subject-level compatibility configured", subject)
		}
		prev = level
		return []entry{{kind: entryConfig, subject: subject}}, nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, configResponse{prev})
}
