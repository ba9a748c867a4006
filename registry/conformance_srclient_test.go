package registry_test

import (
	"errors"
	"net/url"
	"slices"
	"testing"

	"github.com/riferrei/srclient"
)

// srCode extracts the error_code of an srclient error (0 when there is none).
func srCode(err error) int {
	var e srclient.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// TestSrclientConformance drives every call of riferrei/srclient v0.7.2 against each store.
func TestSrclientConformance(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		c := srclient.NewSchemaRegistryClient(url)
		c.CachingEnabled(false) // srclient's cache can return a stale latest version
		const subj = "user-topic-value"
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		wantCode := func(err error, code int) {
			t.Helper()
			if got := srCode(err); got != code {
				t.Fatalf("error %v: code %d, want %d", err, got, code)
			}
		}

		s1, err := c.CreateSchema(subj, userEventV1, srclient.Avro)
		must(err)
		if s1.ID() != 1 || s1.Codec() == nil {
			t.Fatalf("CreateSchema v1: id %d codec %v", s1.ID(), s1.Codec())
		}
		again, err := c.CreateSchema(subj, userEventV1Reordered, srclient.Avro)
		must(err)
		if again.ID() != 1 {
			t.Fatalf("re-registering v1 gave id %d", again.ID())
		}
		s2, err := c.CreateSchema(subj, userEventV2, srclient.Avro)
		must(err)
		if s2.ID() != 2 {
			t.Fatalf("CreateSchema v2: id %d", s2.ID())
		}
		_, err = c.CreateSchema(subj, userEventV3Bad, srclient.Avro)
		wantCode(err, 409)
		_, err = c.CreateSchema(subj, `{"type":"object"}`, srclient.Json)
		wantCode(err, 42201)
		_, err = c.CreateSchema(subj, `syntax = "proto3"; message M {}`, srclient.Protobuf)
		wantCode(err, 42201)
		_, err = c.CreateSchema(subj, `{"type":"record","name":"X"}`, srclient.Avro)
		wantCode(err, 42201)

		got, err := c.LookupSchema(subj, userEventV2, srclient.Avro)
		must(err)
		if got.ID() != 2 || got.Version() != 2 || got.Schema() != userEventV2Spaced() {
			t.Fatalf("LookupSchema: id %d version %d schema %q", got.ID(), got.Version(), got.Schema())
		}
		_, err = c.LookupSchema(subj, userEventV3Bad, srclient.Avro)
		wantCode(err, 40403)
		_, err = c.LookupSchema("nope", userEventV1, srclient.Avro)
		wantCode(err, 40401)

		byID, err := c.GetSchema(2)
		must(err)
		if byID.Schema() != userEventV2Spaced() {
			t.Fatalf("GetSchema(2) = %q", byID.Schema())
		}
		_, err = c.GetSchema(42)
		wantCode(err, 40403)

		latest, err := c.GetLatestSchema(subj)
		must(err)
		if latest.Version() != 2 || latest.ID() != 2 {
			t.Fatalf("GetLatestSchema: version %d id %d", latest.Version(), latest.ID())
		}
		v1, err := c.GetSchemaByVersion(subj, 1)
		must(err)
		if v1.ID() != 1 || v1.Version() != 1 {
			t.Fatalf("GetSchemaByVersion(1): %d/%d", v1.ID(), v1.Version())
		}
		_, err = c.GetSchemaByVersion(subj, 9)
		wantCode(err, 40402)
		versions, err := c.GetSchemaVersions(subj)
		must(err)
		if !slices.Equal(versions, []int{1, 2}) {
			t.Fatalf("GetSchemaVersions = %v", versions)
		}

		_, err = c.CreateSchema("other-value", userEventV1, srclient.Avro)
		must(err)
		pairs, err := c.GetSubjectVersionsById(1)
		must(err)
		if len(pairs) != 2 {
			t.Fatalf("GetSubjectVersionsById(1) = %v", pairs)
		}
		subjects, err := c.GetSubjects()
		must(err)
		if !slices.Equal(subjects, []string{"other-value", subj}) {
			t.Fatalf("GetSubjects = %v", subjects)
		}

		ok, err := c.IsSchemaCompatible(subj, userEventV3Bad, "latest", srclient.Avro)
		must(err)
		if ok {
			t.Fatal("v3 reported compatible with latest")
		}
		ok, err = c.IsSchemaCompatible(subj, userEventV2, "1", srclient.Avro)
		must(err)
		if !ok {
			t.Fatal("v2 reported incompatible with version 1")
		}
		_, err = c.IsSchemaCompatible(subj, userEventV2, "7", srclient.Avro)
		wantCode(err, 40402)

		level, err := c.GetGlobalCompatibilityLevel()
		must(err)
		if *level != srclient.Backward {
			t.Fatalf("global level %v", *level)
		}
		_, err = c.GetCompatibilityLevel(subj, false)
		wantCode(err, 40408)
		level, err = c.GetCompatibilityLevel(subj, true)
		must(err)
		if *level != srclient.Backward {
			t.Fatalf("subject level defaulting to global: %v", *level)
		}
		for _, l := range []srclient.CompatibilityLevel{srclient.None, srclient.Backward, srclient.BackwardTransitive,
			srclient.Forward, srclient.ForwardTransitive, srclient.Full, srclient.FullTransitive} {
			set, err := c.ChangeSubjectCompatibilityLevel(subj, l)
			must(err)
			got, err := c.GetCompatibilityLevel(subj, false)
			must(err)
			if *set != l || *got != l {
				t.Fatalf("level %v: set %v, read %v", l, *set, *got)
			}
		}
		_, err = c.ChangeSubjectCompatibilityLevel(subj, "SIDEWAYS")
		wantCode(err, 42203)

		must(c.DeleteSubjectByVersion(subj, 1, false))
		wantCode(c.DeleteSubjectByVersion(subj, 1, false), 40406)
		versions, err = c.GetSchemaVersions(subj)
		must(err)
		if !slices.Equal(versions, []int{2}) {
			t.Fatalf("after deleting version 1: %v", versions)
		}
		must(c.DeleteSubjectByVersion(subj, 2, true)) // soft, then permanent
		_, err = c.GetSchemaVersions(subj)
		wantCode(err, 40401)
		all, err := c.GetSubjectsIncludingDeleted()
		must(err)
		if !slices.Equal(all, []string{"other-value", subj}) {
			t.Fatalf("GetSubjectsIncludingDeleted = %v", all)
		}
		must(c.DeleteSubject("other-value", false))
		wantCode(c.DeleteSubject("other-value", false), 40404)
		subjects, err = c.GetSubjects()
		must(err)
		if len(subjects) != 0 {
			t.Fatalf("subjects after deletes: %v", subjects)
		}
		// srclient QueryEscapes subjects (a space becomes "+") in some calls;
		// the same escaping on both sides makes such a subject round-trip.
		spaced, err := c.CreateSchema("with space", `"long"`, srclient.Avro)
		must(err)
		back, err := c.GetLatestSchema("with space")
		must(err)
		if back.ID() != spaced.ID() {
			t.Fatalf("subject with a space: registered id %d, latest id %d", spaced.ID(), back.ID())
		}
		must(c.DeleteSubject(url2QueryEscape("with space"), true))

		// srclient's permanent delete soft-deletes first, so it fails on a
		// subject that is already soft-deleted and works on a live one.
		wantCode(c.DeleteSubject(subj, true), 40404)
		_, err = c.CreateSchema("third", `"string"`, srclient.Avro)
		must(err)
		must(c.DeleteSubject("third", true))
		wantCode(c.DeleteSubject("third", false), 40401)
		all, err = c.GetSubjectsIncludingDeleted()
		must(err)
		if !slices.Equal(all, []string{"other-value", subj}) {
			t.Fatalf("after permanent delete: %v", all)
		}
	})
}

// userEventV2Spaced is userEventV2 as srclient sends it: newlines replaced by spaces.
func userEventV2Spaced() string {
	out := []byte(userEventV2)
	for i, b := range out {
		if b == '\n' {
			out[i] = ' '
		}
	}
	return string(out)
}

// url2QueryEscape escapes like srclient's other calls, for the calls
// (DeleteSubject, IsSchemaCompatible) that pass the subject through unescaped.
func url2QueryEscape(s string) string { return url.QueryEscape(s) }
