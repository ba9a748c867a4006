package registry

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/sluicehq/sluice/internal/schemafmt"
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
	id, info, aerr := s.schemaByID(r)
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	text, aerr := s.formatSchema(r, info.schemaType, info.schema, id)
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		SchemaType string      `json:"schemaType,omitempty"`
		References []reference `json:"references,omitempty"`
		Schema     string      `json:"schema"`
	}{wireType(info.schemaType), info.refs, text})
}

func (s *Server) handleSchemaTextByID(w http.ResponseWriter, r *http.Request) {
	id, info, aerr := s.schemaByID(r)
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	text, aerr := s.formatSchema(r, info.schemaType, info.schema, id)
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	writeRaw(w, text)
}

// formatSchema renders a stored schema as the request's ?format asks:
// "serialized" gives a PROTOBUF schema as Confluent's serialized form (a
// base64 FileDescriptorProto, which Confluent's Python client reads); any
// other format, or none, the text as registered.
func (s *Server) formatSchema(r *http.Request, schemaType, text string, id int) (string, *apiError) {
	if r.URL.Query().Get("format") != "serialized" || schemaType != typeProtobuf {
		return text, nil
	}
	parsed := s.parsedOf(id)
	if parsed == nil {
		return "", storeError(errors.New("the schema cannot be serialized: it could not be compiled when it was stored"))
	}
	ser, err := schemafmt.ProtobufSerialized(parsed.proto)
	if err != nil {
		return "", storeError(err)
	}
	return ser, nil
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

// parsedOf returns the parsed schema of a stored id (nil if it has none).
func (s *Server) parsedOf(id int) *parsedSchema {
	var p *parsedSchema
	s.store.view(func(st *state) {
		if info := st.ids[id]; info != nil {
			p = info.parsed
		}
	})
	return p
}
