package registry

import "net/http"

func (s *Server) handleDeleteSubject(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	permanent := queryBool(r, "permanent")
	var deleted []int
	err := s.write(r, func(st *state) ([]entry, error) {
		all := st.versions(subject, true)
		if len(all) == 0 {
			return nil, errSubjectNotFound(subject)
		}
		var live []int
		for _, v := range all {
			if !v.Deleted {
				live = append(live, v.Version)
			}
		}
		// As Confluent: no version others reference may go (42206). A soft
		// delete looks at live referrers; a permanent one at soft-deleted
		// referrers too, which still need the version to be read.
		for _, v := range all {
			if ids := st.referencedBy(subject, v.Version, permanent); len(ids) > 0 && (permanent || !v.Deleted) {
				return nil, errReferenced(subject, v.Version, ids)
			}
		}
		if permanent {
			if len(live) > 0 {
				return nil, newAPIError(http.StatusNotFound, codeSubjectNotSoftDeleted,
					"Subject '%s' was not deleted first before being permanently deleted", subject)
			}
			entries := make([]entry, 0, len(all))
			for _, v := range all {
				deleted = append(deleted, v.Version)
				entries = append(entries, entry{kind: entrySchema, subject: subject, version: v.Version})
			}
			return entries, nil
		}
		if len(live) == 0 {
			return nil, newAPIError(http.StatusNotFound, codeSubjectSoftDeleted,
				"Subject '%s' was soft deleted. Set permanent=true to delete permanently", subject)
		}
		deleted = live
		entries := []entry{{kind: entryDeleteSubject, subject: subject, version: st.maxVersion(subject)}}
		if _, ok := st.configs[subject]; ok { // as Confluent: a soft-deleted subject loses its config
			entries = append(entries, entry{kind: entryConfig, subject: subject})
		}
		return entries, nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, deleted)
}

func (s *Server) handleDeleteVersion(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	permanent := queryBool(r, "permanent")
	vp, aerr := parseVersion(r.PathValue("version"))
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	var version int
	err := s.write(r, func(st *state) ([]entry, error) {
		// An explicit version is looked up soft-deleted or not, so that deleting it
		// twice answers 40406; "latest" means the latest live version unless permanent.
		v, aerr := findVersion(st, subject, vp, permanent || !vp.latest)
		if aerr != nil {
			return nil, aerr
		}
		version = v.Version
		if ids := st.referencedBy(subject, v.Version, permanent); len(ids) > 0 && (permanent || !v.Deleted) {
			return nil, errReferenced(subject, v.Version, ids)
		}
		if permanent {
			if !v.Deleted {
				return nil, newAPIError(http.StatusNotFound, codeVersionNotSoftDeleted,
					"Subject '%s' Version %d was not deleted first before being permanently deleted", subject, v.Version)
			}
			return []entry{{kind: entrySchema, subject: subject, version: v.Version}}, nil
		}
		if v.Deleted {
			return nil, newAPIError(http.StatusNotFound, codeVersionSoftDeleted,
				"Subject '%s' Version %d was soft deleted. Set permanent=true to delete permanently", subject, v.Version)
		}
		v.Deleted = true
		return []entry{{kind: entrySchema, subject: subject, version: v.Version, schema: &v}}, nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, version)
}
